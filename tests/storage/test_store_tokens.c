#include <errno.h>

#include "tests/storage/fixture.h"
#include "tests/util/tv.h"

static struct fx f;

static void setup(void)
{
	fx_init(&f);
}

static void teardown(void)
{
	fx_fini(&f);
}

TestSuite(store_tokens, .init = setup, .fini = teardown);

/* The stored hash is SHA-256 of the token text (FIPS 180-2 sample "abc"). */
Test(store_tokens, hash_is_sha256)
{
	uint8_t h[32], want[32];

	cr_assert_eq(tv_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			    want, sizeof(want)),
		     32);
	cr_assert_eq(store_token_hash("abc", h), 0);
	cr_assert_arr_eq(h, want, 32);
	cr_assert_eq(store_token_hash(NULL, h), -EINVAL);
}

/* Tokens are found by hash with name and role; names and hashes are unique. */
Test(store_tokens, add_find)
{
	struct store_token t;
	uint8_t h1[32], h2[32];

	store_token_hash("secret-one", h1);
	store_token_hash("secret-two", h2);
	cr_assert_eq(store_token_add(f.s, "alice", STORE_ROLE_OPERATOR, h1), 0);
	cr_assert_eq(store_token_add(f.s, "alice", STORE_ROLE_ADMIN, h2), -EEXIST);
	cr_assert_eq(store_token_add(f.s, "bob", STORE_ROLE_ADMIN, h1), -EEXIST);
	cr_assert_eq(store_token_add(f.s, "bob", (enum store_role)3, h2), -EINVAL);
	cr_assert_eq(store_token_add(f.s, "", STORE_ROLE_ADMIN, h2), -EINVAL);
	cr_assert_eq(store_token_find(f.s, h1, &t), 0);
	cr_assert_str_eq(t.name, "alice");
	cr_assert_eq(t.role, STORE_ROLE_OPERATOR);
	cr_assert_arr_eq(t.hash, h1, 32);
	cr_assert_not(t.revoked);
	cr_assert_eq(t.created_ms, f.now);
	cr_assert_eq(store_token_find(f.s, h2, &t), -ENOENT);
}

/* A revoked token is still found but flagged; revoking twice is -EALREADY. */
Test(store_tokens, revoke_and_list)
{
	struct store_token t, *list;
	uint8_t h1[32], h2[32];
	size_t n;

	store_token_hash("one", h1);
	store_token_hash("two", h2);
	cr_assert_eq(store_token_add(f.s, "viewer", STORE_ROLE_VIEWER, h1), 0);
	cr_assert_eq(store_token_add(f.s, "admin", STORE_ROLE_ADMIN, h2), 0);
	f.now += 7;
	cr_assert_eq(store_token_revoke(f.s, "viewer"), 0);
	cr_assert_eq(store_token_revoke(f.s, "viewer"), -EALREADY);
	cr_assert_eq(store_token_revoke(f.s, "nobody"), -ENOENT);
	cr_assert_eq(store_token_find(f.s, h1, &t), 0);
	cr_assert(t.revoked);
	cr_assert_eq(t.revoked_ms, t.created_ms + 7);
	cr_assert_eq(store_token_list(f.s, &list, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(list[0].name, "viewer");
	cr_assert_str_eq(list[1].name, "admin");
	cr_assert_not(list[1].revoked);
	free(list);
}
