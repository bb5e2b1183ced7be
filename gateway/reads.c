/*
 * Reads on the HTTP threads and the token table (reads.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/sec.h"
#include "gateway/gw_cmd.h"
#include "gateway/log.h"
#include "gateway/nodes.h"
#include "gateway/reads.h"
#include "storage/store.h"

/* One thread's read-only handle, on the list of every open one. */
struct handle {
	struct gw_reads *owner;
	struct store *st; /* NULL: it could not be opened on this thread; not tried again */
	struct handle *prev, *next;
};

struct token_entry {
	uint8_t hash[STORE_TOKEN_HASH_LEN];
	char name[STORE_NAME_MAX];
	int role;
};

struct gw_reads {
	char *db_path;
	bool direct;
	pthread_key_t key; /* struct handle * of the calling thread */
	pthread_mutex_t mtx;
	struct handle *handles;
	/* The token table: read-locked by the checks, write-locked by changes. */
	pthread_rwlock_t lock;
	struct token_entry *tokens;
	size_t n_tokens, cap_tokens;
	/*
	 * Bumped by every revocation: a check that missed the table and found
	 * the token in the database adds it only if no revocation came
	 * meanwhile, so a revoked token cannot come back through that path.
	 */
	atomic_uint revocations;
};

static void handle_close(struct handle *h)
{
	struct gw_reads *r = h->owner;

	pthread_mutex_lock(&r->mtx);
	if (h->prev) {
		h->prev->next = h->next;
	} else {
		r->handles = h->next;
	}
	if (h->next) {
		h->next->prev = h->prev;
	}
	pthread_mutex_unlock(&r->mtx);
	store_close(h->st);
	free(h);
}

/* pthread_key destructor: the worker thread exits. */
static void thread_gone(void *p)
{
	handle_close(p);
}

/* The calling thread's read-only store, opened on first use; NULL if it cannot be. */
static struct store *thread_store(struct gw_reads *r)
{
	struct handle *h = pthread_getspecific(r->key);
	int err = 0;

	if (h) {
		return h->st;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		return NULL;
	}
	h->owner = r;
	h->st = store_open_ro(r->db_path, &err);
	if (!h->st) {
		log_warnx("reads: no read-only handle on %s (%s); reads go through the loop",
			  r->db_path, store_strerror(err));
	}
	if (pthread_setspecific(r->key, h) != 0) {
		store_close(h->st);
		free(h);
		return NULL;
	}
	pthread_mutex_lock(&r->mtx);
	h->next = r->handles;
	if (h->next) {
		h->next->prev = h;
	}
	r->handles = h;
	pthread_mutex_unlock(&r->mtx);
	return h->st;
}

/* Caller holds the write lock. */
static void table_put(struct gw_reads *r, const char *name, int role, const uint8_t *hash)
{
	size_t i;

	for (i = 0; i < r->n_tokens; i++) {
		if (memcmp(r->tokens[i].hash, hash, STORE_TOKEN_HASH_LEN) == 0) {
			return;
		}
	}
	if (r->n_tokens == r->cap_tokens) {
		size_t cap = r->cap_tokens ? r->cap_tokens * 2 : 16;
		struct token_entry *p = realloc(r->tokens, cap * sizeof(*p));

		if (!p) {
			/* Not in the table: the next check finds it in the database. */
			return;
		}
		r->tokens = p;
		r->cap_tokens = cap;
	}
	memcpy(r->tokens[r->n_tokens].hash, hash, STORE_TOKEN_HASH_LEN);
	snprintf(r->tokens[r->n_tokens].name, STORE_NAME_MAX, "%s", name);
	r->tokens[r->n_tokens++].role = role;
}

struct gw_reads *gw_reads_new(const char *db_path, struct store *st, bool direct, int *err)
{
	struct gw_reads *r = calloc(1, sizeof(*r));
	struct store_token *t = NULL;
	size_t n = 0, i;
	int rc;

	if (!r || !(r->db_path = strdup(db_path ? db_path : ""))) {
		free(r);
		*err = -ENOMEM;
		return NULL;
	}
	r->direct = direct;
	pthread_mutex_init(&r->mtx, NULL);
	pthread_rwlock_init(&r->lock, NULL);
	atomic_init(&r->revocations, 0);
	if (pthread_key_create(&r->key, thread_gone) != 0) {
		pthread_rwlock_destroy(&r->lock);
		pthread_mutex_destroy(&r->mtx);
		free(r->db_path);
		free(r);
		*err = -EAGAIN;
		return NULL;
	}
	rc = store_token_list(st, &t, &n);
	for (i = 0; rc == 0 && i < n; i++) {
		if (!t[i].revoked) {
			table_put(r, t[i].name, (int)t[i].role, t[i].hash);
		}
	}
	if (t) {
		sec_wipe(t, n * sizeof(*t));
	}
	free(t);
	if (rc) {
		gw_reads_free(r);
		*err = rc;
		return NULL;
	}
	return r;
}

void gw_reads_free(struct gw_reads *r)
{
	if (!r) {
		return;
	}
	/* No destructor runs after this; the handles still open are closed here. */
	pthread_key_delete(r->key);
	while (r->handles) {
		handle_close(r->handles);
	}
	if (r->tokens) {
		sec_wipe(r->tokens, r->cap_tokens * sizeof(*r->tokens));
	}
	free(r->tokens);
	pthread_rwlock_destroy(&r->lock);
	pthread_mutex_destroy(&r->mtx);
	free(r->db_path);
	free(r);
}

/*
 * A page of nodes, written as text (gw_nodes_page_text()) and handed to the
 * API as a ready body: {_http_text, _http_content_type} (api/http.c sends it
 * as it is).  Building the page as jansson objects and dumping them was most
 * of a page's cost.
 */
static json_t *page_result(struct store *st, const json_t *args, int *err, char *detail, size_t cap)
{
	size_t len = 0;
	char *text = gw_nodes_page_text(st, args, &len, err, detail, cap);
	json_t *res;

	if (!text) {
		return NULL;
	}
	/*
	 * The text is JSON whose strings came through the API's JSON parser
	 * (names) or are ours: no second pass to check its UTF-8.
	 */
	res = json_pack("{s:o, s:s}", "_http_text", json_stringn_nocheck(text, len),
			"_http_content_type", "application/json");
	free(text);
	return res;
}

int gw_reads_serve(struct gw_reads *r, int type, const json_t *args, json_t **result, char *detail,
		   size_t cap)
{
	struct store *st;
	int err = 0;

	/* The inventory's view of nodes only: nothing here asks the stack. */
	if (!r || !r->direct || (type != GW_CMD_NODE_GET && type != GW_CMD_NODE_LIST)) {
		return -ENOSYS;
	}
	st = thread_store(r);
	if (!st) {
		return -ENOSYS;
	}
	if (type == GW_CMD_NODE_GET) {
		*result = gw_nodes_node_json(st, args, &err, detail, cap);
	} else {
		*result = page_result(st, args, &err, detail, cap);
	}
	return *result ? 0 : err ? err : -ENOMEM;
}

/* Caller holds the lock (either kind).  Index of the entry with hash, or -1. */
static long table_find(const struct gw_reads *r, const uint8_t *hash)
{
	long hit = -1;

	/* Every entry, in constant time each: the time tells nothing of the match. */
	for (size_t i = 0; i < r->n_tokens; i++) {
		if (sec_equal(r->tokens[i].hash, hash, STORE_TOKEN_HASH_LEN)) {
			hit = (long)i;
		}
	}
	return hit;
}

/* A miss: the token may have been created by `meshgw token create` meanwhile. */
static int lookup_db(struct gw_reads *r, const uint8_t *hash, char *name, size_t cap, int *role)
{
	unsigned before = atomic_load(&r->revocations);
	struct store *st = thread_store(r);
	struct store_token t;
	int rc;

	if (!st) {
		return -EACCES;
	}
	rc = store_token_find(st, hash, &t);
	if (rc || t.revoked) {
		return -EACCES;
	}
	pthread_rwlock_wrlock(&r->lock);
	if (atomic_load(&r->revocations) != before) {
		pthread_rwlock_unlock(&r->lock);
		return -EACCES;
	}
	table_put(r, t.name, (int)t.role, t.hash);
	pthread_rwlock_unlock(&r->lock);
	snprintf(name, cap, "%s", t.name);
	*role = (int)t.role;
	return 0;
}

int gw_reads_token_check(struct gw_reads *r, const char *token, char *name, size_t cap, int *role)
{
	uint8_t hash[STORE_TOKEN_HASH_LEN];
	long i;

	if (!r || !token || store_token_hash(token, hash)) {
		return -EACCES;
	}
	pthread_rwlock_rdlock(&r->lock);
	i = table_find(r, hash);
	if (i >= 0) {
		snprintf(name, cap, "%s", r->tokens[i].name);
		*role = r->tokens[i].role;
	}
	pthread_rwlock_unlock(&r->lock);
	return i >= 0 ? 0 : lookup_db(r, hash, name, cap, role);
}

void gw_reads_token_added(struct gw_reads *r, const char *name, int role, const uint8_t hash[32])
{
	if (!r) {
		return;
	}
	pthread_rwlock_wrlock(&r->lock);
	table_put(r, name, role, hash);
	pthread_rwlock_unlock(&r->lock);
}

void gw_reads_token_revoked(struct gw_reads *r, const char *name)
{
	if (!r) {
		return;
	}
	pthread_rwlock_wrlock(&r->lock);
	atomic_fetch_add(&r->revocations, 1);
	for (size_t i = 0; i < r->n_tokens;) {
		if (strcmp(r->tokens[i].name, name) == 0) {
			sec_wipe(&r->tokens[i], sizeof(r->tokens[i]));
			r->tokens[i] = r->tokens[--r->n_tokens];
		} else {
			i++;
		}
	}
	pthread_rwlock_unlock(&r->lock);
}
