#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "api/api_int.h"

static struct sockaddr_in v4(const char *a, uint16_t port)
{
	struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};

	cr_assert_eq(inet_pton(AF_INET, a, &s.sin_addr), 1);
	return s;
}

/* Connections count per address (the port does not matter); the entry goes at zero. */
Test(peers, counts_per_address)
{
	struct api_peers *p = api_peers_new();
	struct sockaddr_in a1 = v4("127.0.0.2", 1000), a2 = v4("127.0.0.2", 1001),
			   b = v4("127.0.0.3", 1000);
	struct api_peer *e1, *e2, *f;

	cr_assert_not_null(p);
	e1 = api_peers_add(p, (struct sockaddr *)&a1);
	e2 = api_peers_add(p, (struct sockaddr *)&a2);
	f = api_peers_add(p, (struct sockaddr *)&b);
	cr_assert_eq(e1, e2, "one entry per address");
	cr_assert_neq(e1, f);
	cr_assert_eq(api_peer_count(e1), 2);
	cr_assert_eq(api_peer_count(f), 1);
	api_peers_put(p, e1);
	cr_assert_eq(api_peer_count(e2), 1);
	api_peers_put(p, e2);
	/* Gone at zero: the next connection from it starts a new count. */
	e1 = api_peers_add(p, (struct sockaddr *)&a1);
	cr_assert_eq(api_peer_count(e1), 1);
	api_peers_put(p, e1);
	api_peers_put(p, f);
	api_peers_put(p, NULL);
	cr_assert_eq(api_peer_count(NULL), 0);
	api_peers_free(p);
}

/* IPv6 addresses count apart from IPv4 ones; other families are not counted. */
Test(peers, families)
{
	struct api_peers *p = api_peers_new();
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in s4 = v4("0.0.0.0", 1);
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	struct api_peer *a, *b;

	cr_assert_eq(inet_pton(AF_INET6, "::", &s6.sin6_addr), 1);
	a = api_peers_add(p, (struct sockaddr *)&s6);
	b = api_peers_add(p, (struct sockaddr *)&s4);
	cr_assert_neq(a, b, "an all-zero IPv6 and IPv4 address are different peers");
	cr_assert_null(api_peers_add(p, (struct sockaddr *)&su));
	cr_assert_null(api_peers_add(p, NULL));
	/* Freed with entries still open: no leak under ASan. */
	api_peers_free(p);
}
