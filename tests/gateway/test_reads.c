/*
 * gateway/reads.c: the token table kept in step with the database, and the
 * node reads answered from a thread's read-only handle with the same bytes
 * as the loop's commands.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "gateway/gw_cmd.h"
#include "gateway/nodes.h"
#include "gateway/reads.h"
#include "mesh/crypto.h"
#include "storage/store_zone.h"
#include "tests/storage/fixture.h"

static struct fx f;
static struct gw_reads *rd;

static void teardown(void)
{
	gw_reads_free(rd);
	rd = NULL;
	fx_fini(&f);
}

static void add_token(struct store *s, const char *name, enum store_role role, const char *tok)
{
	uint8_t hash[STORE_TOKEN_HASH_LEN];

	cr_assert_eq(store_token_hash(tok, hash), 0);
	cr_assert_eq(store_token_add(s, name, role, hash), 0);
}

static int check(const char *tok, char *name, int *role)
{
	return gw_reads_token_check(rd, tok, name, 64, role);
}

/* Three nodes as the gateway keeps them (fingerprints recorded), and the reader. */
static void setup_nodes(bool direct)
{
	int err = 0;

	fx_init(&f);
	cr_assert_eq(fx_node(f.s, 0x0010, 2, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0020, 1, 2), 0);
	cr_assert_eq(fx_node(f.s, 0x0030, 3, 3), 0);
	cr_assert_eq(store_node_name_set(f.s, 0x0020, "lamp \"2\""), 0);
	cr_assert_eq(store_set_keyprint(f.s, mesh_crypto_key_fingerprint), 3);
	rd = gw_reads_new(f.db, f.s, direct, &err);
	cr_assert_not_null(rd, "gw_reads_new: %d", err);
}

Test(reads, tokens_follow_the_database, .fini = teardown)
{
	struct store *cli;
	char name[64];
	uint8_t hash[STORE_TOKEN_HASH_LEN];
	int role = -1, err = 0;

	fx_init(&f);
	add_token(f.s, "alice", STORE_ROLE_OPERATOR, "tok-alice");
	add_token(f.s, "old", STORE_ROLE_ADMIN, "tok-old");
	cr_assert_eq(store_token_revoke(f.s, "old"), 0);
	rd = gw_reads_new(f.db, f.s, true, &err);
	cr_assert_not_null(rd);

	cr_assert_eq(check("tok-alice", name, &role), 0);
	cr_assert_str_eq(name, "alice");
	cr_assert_eq(role, STORE_ROLE_OPERATOR);
	cr_assert_eq(check("tok-old", name, &role), -EACCES);
	cr_assert_eq(check("tok-alic", name, &role), -EACCES);
	cr_assert_eq(check("", name, &role), -EACCES);

	/* Created by the loop's command: in the table at once, no database needed. */
	cr_assert_eq(store_token_hash("tok-carol", hash), 0);
	gw_reads_token_added(rd, "carol", STORE_ROLE_VIEWER, hash);
	cr_assert_eq(check("tok-carol", name, &role), 0);
	cr_assert_str_eq(name, "carol");

	/* Created by `meshgw token create` (another connection) while running. */
	cli = store_open(f.db, f.key, &err);
	cr_assert_not_null(cli);
	add_token(cli, "bob", STORE_ROLE_ADMIN, "tok-bob");
	store_close(cli);
	cr_assert_eq(check("tok-bob", name, &role), 0);
	cr_assert_str_eq(name, "bob");
	cr_assert_eq(role, STORE_ROLE_ADMIN);

	/* Revoked as the loop does it: the row, then the table. */
	cr_assert_eq(store_token_revoke(f.s, "alice"), 0);
	gw_reads_token_revoked(rd, "alice");
	cr_assert_eq(check("tok-alice", name, &role), -EACCES);
	cr_assert_eq(store_token_revoke(f.s, "bob"), 0);
	gw_reads_token_revoked(rd, "bob");
	cr_assert_eq(check("tok-bob", name, &role), -EACCES);
	cr_assert_eq(check("tok-carol", name, &role), 0);
}

/*
 * The body the API sends for an answer: a page comes as ready text
 * ({_http_text}), anything else as an object it dumps.
 */
static char *body(const json_t *res)
{
	const char *text = json_string_value(json_object_get(res, "_http_text"));

	return text ? strdup(text) : json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* The dumps of a reader's answer and of the builder on the loop's store. */
static void assert_same(int type, json_t *args)
{
	char detail[128] = "", d2[128] = "";
	json_t *here = NULL, *loop;
	char *a, *b;
	int err = 0;

	cr_assert_eq(gw_reads_serve(rd, type, args, &here, detail, sizeof(detail)), 0, "%s",
		     detail);
	loop = type == GW_CMD_NODE_GET ? gw_nodes_node_json(f.s, args, &err, d2, sizeof(d2))
				       : gw_nodes_page_json(f.s, args, &err, d2, sizeof(d2));
	cr_assert_not_null(loop, "%s", d2);
	a = body(here);
	b = json_dumps(loop, JSON_COMPACT | JSON_ENCODE_ANY);
	cr_assert_str_eq(a, b);
	free(a);
	free(b);
	json_decref(here);
	json_decref(loop);
	json_decref(args);
}

Test(reads, same_bytes_as_the_loop, .fini = teardown)
{
	json_t *res = NULL, *args = json_pack("{s:i}", "address", 0x0010);
	char detail[128] = "", fp[9];
	uint8_t dk[16];

	setup_nodes(true);
	/* 0x0020 in a zone, 0x0030 on its way into another: both paths show the zones alike. */
	{
		struct store_zone z1, z2;
		json_t *page, *items;

		cr_assert_eq(store_zone_create(f.s, "hall \"1\"", 0xc000, 0xc0ff, &z1), 0);
		cr_assert_eq(store_zone_create(f.s, "lab", 0xc000, 0xc0ff, &z2), 0);
		cr_assert_eq(store_zone_move_begin(f.s, 0x0020, z1.id), 0);
		cr_assert_eq(store_zone_move_done(f.s, 0x0020, z1.id), 0);
		cr_assert_eq(store_zone_move_begin(f.s, 0x0030, z2.id), 0);
		page = gw_nodes_page_json(f.s, json_object(), &(int){0}, detail, sizeof(detail));
		items = json_object_get(page, "items");
		cr_assert_eq(json_array_size(items), 3);
		cr_assert(json_is_null(json_object_get(json_array_get(items, 0), "zone")));
		cr_assert_str_eq(json_string_value(json_object_get(
				     json_object_get(json_array_get(items, 1), "zone"), "name")),
				 "hall \"1\"");
		cr_assert(json_is_true(
		    json_object_get(json_object_get(json_array_get(items, 2), "zone"), "pending")));
		cr_assert_eq(json_integer_value(json_object_get(
				 json_object_get(json_array_get(items, 2), "zone"), "group")),
			     z2.group);
		json_decref(page);
	}
	assert_same(GW_CMD_NODE_GET, json_pack("{s:i}", "address", 0x0020));
	assert_same(GW_CMD_NODE_GET, json_pack("{s:i}", "address", 0x0030));
	assert_same(GW_CMD_NODE_LIST, json_pack("{s:i}", "limit", 2));
	assert_same(GW_CMD_NODE_LIST, json_pack("{s:i, s:i}", "limit", 2, "after", 0x0010));
	assert_same(GW_CMD_NODE_LIST, json_pack("{s:i, s:i}", "limit", 2, "offset", 2));
	assert_same(GW_CMD_NODE_LIST, json_pack("{s:s}", "name", "lamp"));
	assert_same(GW_CMD_NODE_LIST, json_pack("{s:i, s:i}", "limit", 5, "offset", 3));
	assert_same(GW_CMD_NODE_LIST, json_pack("{s:i}", "limit", 3));

	/* The recorded fingerprint is the key's, as the loop computed it before. */
	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NODE_GET, args, &res, detail, sizeof(detail)), 0);
	fx_seed(dk, 1, 0x5a);
	mesh_crypto_key_fingerprint(dk, fp);
	cr_assert_str_eq(json_string_value(json_object_get(res, "devkey_fingerprint")), fp);
	json_decref(res);
	json_decref(args);

	/* A removed node is still shown, without the fingerprint of a key no longer in use. */
	cr_assert_eq(store_node_remove(f.s, 0x0030), 0);
	args = json_pack("{s:i}", "address", 0x0030);
	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NODE_GET, args, &res, detail, sizeof(detail)), 0);
	cr_assert(json_is_true(json_object_get(res, "excluded")));
	cr_assert_null(json_object_get(res, "devkey_fingerprint"));
	json_decref(res);
	json_decref(args);
}

Test(reads, errors_and_what_is_not_served_here, .fini = teardown)
{
	json_t *res = NULL, *missing = json_pack("{s:i}", "address", 0x0040);
	json_t *bad_state = json_pack("{s:s}", "state", "sleeping"), *none = json_object();
	char detail[128] = "";

	setup_nodes(true);
	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NODE_GET, missing, &res, detail, sizeof(detail)),
		     -ENOENT);
	cr_assert_str_eq(detail, "no node with this address");
	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NODE_LIST, bad_state, &res, detail, sizeof(detail)),
		     -EINVAL);
	cr_assert_str_eq(detail, "state: unknown state");
	/* Live state of the stack, or a write: the loop's. */
	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NETWORK_GET, none, &res, detail, sizeof(detail)),
		     -ENOSYS);
	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NODE_PATCH, missing, &res, detail, sizeof(detail)),
		     -ENOSYS);
	cr_assert_null(res);
	json_decref(missing);
	json_decref(bad_state);
	json_decref(none);
}

/* http_read_path = loop: nothing is answered here. */
Test(reads, loop_path_serves_nothing, .fini = teardown)
{
	json_t *res = NULL, *args = json_pack("{s:i}", "address", 0x0010);
	char detail[128] = "";

	setup_nodes(false);
	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NODE_GET, args, &res, detail, sizeof(detail)),
		     -ENOSYS);
	cr_assert_null(res);
	json_decref(args);
}

struct worker {
	char *dump;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	json_t *res = NULL, *args = json_pack("{s:i}", "limit", 3);
	char detail[128] = "";

	if (gw_reads_serve(rd, GW_CMD_NODE_LIST, args, &res, detail, sizeof(detail)) == 0) {
		w->dump = body(res);
	}
	json_decref(res);
	json_decref(args);
	return NULL;
}

/*
 * Each thread reads through its own handle: the workers' handles close as
 * they exit, the main thread's with gw_reads_free() (ASan checks the leaks).
 */
Test(reads, one_handle_per_thread, .fini = teardown)
{
	struct worker w[3] = {{0}};
	pthread_t t[3];

	setup_nodes(true);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		cr_assert_not_null(w[i].dump);
		cr_assert_str_eq(w[i].dump, w[0].dump);
	}
	/* A node added by the loop is in the next read of any thread. */
	cr_assert_eq(fx_node(f.s, 0x0008, 1, 8), 0);
	free(w[1].dump);
	worker(&w[1]);
	cr_assert(strstr(w[1].dump, "\"total\":4") != NULL, "%s", w[1].dump);
	for (int i = 0; i < 3; i++) {
		free(w[i].dump);
	}
}

/* The address of the only node of the page at offset (limit 1) read on this thread. */
static int address_at(int offset, int excluded, int *total)
{
	json_t *res = NULL, *page,
	       *args =
		   json_pack("{s:i, s:i, s:b}", "limit", 1, "offset", offset, "excluded", excluded);
	char detail[128] = "";
	int a = -1;

	cr_assert_eq(gw_reads_serve(rd, GW_CMD_NODE_LIST, args, &res, detail, sizeof(detail)), 0,
		     "%s", detail);
	page = json_loads(json_string_value(json_object_get(res, "_http_text")), 0, NULL);
	cr_assert_not_null(page);
	if (json_array_size(json_object_get(page, "items")) == 1) {
		a = (int)json_integer_value(
		    json_object_get(json_array_get(json_object_get(page, "items"), 0), "address"));
	}
	*total = (int)json_integer_value(json_object_get(page, "total"));
	json_decref(page);
	json_decref(res);
	json_decref(args);
	return a;
}

/*
 * An offset is answered from the selection kept per version of the database
 * (storage/store_nodes.c): a write by the loop between two reads moves every
 * page after it, and the total with it.
 */
Test(reads, offsets_follow_writes, .fini = teardown)
{
	int total = 0;

	setup_nodes(true);
	cr_assert_eq(address_at(1, false, &total), 0x0020);
	cr_assert_eq(total, 3);
	cr_assert_eq(address_at(2, false, &total), 0x0030);
	cr_assert_eq(address_at(3, false, &total), -1);
	/* A node before them: every later position moves by one. */
	cr_assert_eq(fx_node(f.s, 0x0018, 1, 9), 0);
	cr_assert_eq(address_at(1, false, &total), 0x0018);
	cr_assert_eq(total, 4);
	cr_assert_eq(address_at(3, false, &total), 0x0030);
	/* Removed: no longer among the active nodes, now among the excluded ones. */
	cr_assert_eq(store_node_remove(f.s, 0x0018), 0);
	cr_assert_eq(address_at(1, false, &total), 0x0020);
	cr_assert_eq(total, 3);
	cr_assert_eq(address_at(0, true, &total), 0x0018);
	cr_assert_eq(total, 1);
}
