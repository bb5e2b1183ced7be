#include "api/api_int.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Open connections per client address, for the per-address cap answered 503
 * (api/http.c).  libmicrohttpd's own per-IP limit can only refuse a
 * connection at accept (the client sees it closed with no answer), so the
 * API counts addresses itself and keeps libmicrohttpd's limit as a hard stop
 * a little above its own.  A chained hash table under one mutex: it is
 * touched once when a connection opens and once when it closes, never per
 * request (a request reads its entry's count, an atomic).
 */

#define PEER_BUCKETS 1024u

struct api_peer {
	sa_family_t family;
	uint8_t addr[16];
	atomic_uint n; /* connections open from this address */
	struct api_peer *next;
};

struct api_peers {
	pthread_mutex_t mtx;
	struct api_peer *bucket[PEER_BUCKETS];
};

struct api_peers *api_peers_new(void)
{
	struct api_peers *p = calloc(1, sizeof(*p));

	if (p) {
		pthread_mutex_init(&p->mtx, NULL);
	}
	return p;
}

void api_peers_free(struct api_peers *p)
{
	if (!p) {
		return;
	}
	for (size_t i = 0; i < PEER_BUCKETS; i++) {
		while (p->bucket[i]) {
			struct api_peer *e = p->bucket[i];

			p->bucket[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&p->mtx);
	free(p);
}

/* The address octets of sa (4 for IPv4, 16 for IPv6), or 0 for another family. */
static size_t addr_of(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa && sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 4;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 16;
	}
	return 0;
}

/* FNV-1a over the address: clients cannot choose many colliding addresses cheaply. */
static size_t bucket_of(const uint8_t *a, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h = (h ^ a[i]) * 16777619u;
	}
	return h % PEER_BUCKETS;
}

struct api_peer *api_peers_add(struct api_peers *p, const struct sockaddr *sa)
{
	uint8_t a[16] = {0};
	size_t len = addr_of(sa, a), b;
	struct api_peer *e;

	if (!len) {
		return NULL;
	}
	b = bucket_of(a, len);
	pthread_mutex_lock(&p->mtx);
	for (e = p->bucket[b]; e; e = e->next) {
		if (e->family == sa->sa_family && memcmp(e->addr, a, len) == 0) {
			break;
		}
	}
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (e) {
			e->family = sa->sa_family;
			memcpy(e->addr, a, sizeof(a));
			atomic_init(&e->n, 0);
			e->next = p->bucket[b];
			p->bucket[b] = e;
		}
	}
	if (e) {
		atomic_fetch_add(&e->n, 1);
	}
	pthread_mutex_unlock(&p->mtx);
	return e;
}

void api_peers_put(struct api_peers *p, struct api_peer *e)
{
	struct api_peer **pp;
	size_t b;

	if (!e) {
		return;
	}
	b = bucket_of(e->addr, e->family == AF_INET ? 4 : 16);
	pthread_mutex_lock(&p->mtx);
	if (atomic_fetch_sub(&e->n, 1) == 1) {
		for (pp = &p->bucket[b]; *pp; pp = &(*pp)->next) {
			if (*pp == e) {
				*pp = e->next;
				free(e);
				break;
			}
		}
	}
	pthread_mutex_unlock(&p->mtx);
}

unsigned api_peer_count(const struct api_peer *e)
{
	return e ? atomic_load(&e->n) : 0;
}
