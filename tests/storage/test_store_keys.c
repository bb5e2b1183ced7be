#include <errno.h>

#include "tests/storage/fixture.h"

static struct fx f;

static void setup(void)
{
	fx_init(&f);
}

static void teardown(void)
{
	fx_fini(&f);
}

TestSuite(store_keys, .init = setup, .fini = teardown);

/* Keys from the sample data of Mesh Protocol §8 (NetKey, AppKey, DevKey, k2 input). */
static const uint8_t netkey0[16] = {0x7d, 0xd7, 0x36, 0x4c, 0xd8, 0x42, 0xad, 0x18,
				    0xc1, 0x7c, 0x2b, 0x82, 0x0c, 0x84, 0xc3, 0xd6};
static const uint8_t appkey[16] = {0x63, 0x96, 0x47, 0x71, 0x73, 0x4f, 0xbd, 0x76,
				   0xe3, 0xb4, 0x05, 0x19, 0xd1, 0xd9, 0x4a, 0x48};
static const uint8_t devkey[16] = {0x9d, 0x6d, 0xd0, 0xe9, 0x6e, 0xb2, 0x5d, 0xc1,
				   0x9a, 0x40, 0xed, 0x99, 0x14, 0xf8, 0xf0, 0x3f};
static const uint8_t newkey[16] = {0xf7, 0xa2, 0xa4, 0x4f, 0x8e, 0x8a, 0x80, 0x29,
				   0x06, 0x4f, 0x17, 0x3d, 0xdc, 0x1e, 0x2b, 0x00};

/* NetKey add/get/list/delete round trip, with -EEXIST, -ENOENT and -EINVAL. */
Test(store_keys, netkey_verbs)
{
	struct store_netkey k, *list;
	size_t n;

	cr_assert_eq(store_netkey_get(f.s, 0, &k), 0);
	cr_assert_arr_eq(k.key, netkey0, 16);
	cr_assert_not(k.has_old);
	cr_assert_eq(k.phase, STORE_KR_NORMAL);
	cr_assert_eq(store_netkey_add(f.s, 0, newkey), -EEXIST);
	cr_assert_eq(store_netkey_add(f.s, 0x1000, newkey), -EINVAL);
	cr_assert_eq(store_netkey_add(f.s, 0x123, newkey), 0);
	cr_assert_eq(store_netkey_list(f.s, &list, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(list[0].idx, 0);
	cr_assert_eq(list[1].idx, 0x123);
	cr_assert_arr_eq(list[1].key, newkey, 16);
	store_netkeys_free(list, n);
	cr_assert_eq(store_netkey_delete(f.s, 0x123), 0);
	cr_assert_eq(store_netkey_delete(f.s, 0x123), -ENOENT);
	cr_assert_eq(store_netkey_get(f.s, 0x123, &k), -ENOENT);
}

/* A NetKey in use by an AppKey or a node cannot be deleted. */
Test(store_keys, netkey_delete_busy)
{
	cr_assert_eq(store_appkey_add(f.s, 0, 0, appkey), 0);
	cr_assert_eq(store_netkey_delete(f.s, 0), -EBUSY);
	cr_assert_eq(store_appkey_delete(f.s, 0), 0);
	cr_assert_eq(fx_node(f.s, 0x10, 1, 1), 0);
	cr_assert_eq(store_netkey_delete(f.s, 0), -EBUSY);
}

/* Key Refresh: update keeps the old key, phases move forward only, NORMAL drops old keys. */
Test(store_keys, key_refresh_phases)
{
	struct store_netkey k;
	struct store_appkey a;

	cr_assert_eq(store_appkey_add(f.s, 1, 0, appkey), 0);
	cr_assert_eq(store_netkey_phase_set(f.s, 0, STORE_KR_PHASE2), -EINVAL);
	cr_assert_eq(store_netkey_update(f.s, 0, newkey), 0);
	cr_assert_eq(store_netkey_update(f.s, 0, newkey), -EBUSY);
	cr_assert_eq(store_appkey_update(f.s, 1, devkey), 0);
	cr_assert_eq(store_appkey_update(f.s, 1, devkey), -EBUSY);
	cr_assert_eq(store_netkey_get(f.s, 0, &k), 0);
	cr_assert_eq(k.phase, STORE_KR_PHASE1);
	cr_assert_arr_eq(k.key, newkey, 16);
	cr_assert(k.has_old);
	cr_assert_arr_eq(k.old_key, netkey0, 16);
	cr_assert_eq(store_netkey_phase_set(f.s, 0, STORE_KR_PHASE1), -EINVAL);
	cr_assert_eq(store_netkey_phase_set(f.s, 0, STORE_KR_PHASE2), 0);
	cr_assert_eq(store_netkey_phase_set(f.s, 0, STORE_KR_PHASE2), -EINVAL);
	cr_assert_eq(store_appkey_get(f.s, 1, &a), 0);
	cr_assert(a.has_old);
	cr_assert_arr_eq(a.old_key, appkey, 16);
	cr_assert_arr_eq(a.key, devkey, 16);
	cr_assert_eq(store_netkey_phase_set(f.s, 0, STORE_KR_NORMAL), 0);
	cr_assert_eq(store_netkey_get(f.s, 0, &k), 0);
	cr_assert_not(k.has_old);
	cr_assert_eq(k.phase, STORE_KR_NORMAL);
	cr_assert_eq(store_appkey_get(f.s, 1, &a), 0);
	cr_assert_not(a.has_old, "bound AppKeys finish their refresh with the NetKey");
	cr_assert_eq(store_netkey_phase_set(f.s, 9, STORE_KR_NORMAL), -ENOENT);
}

/*
 * The start of a Key Refresh as gateway/keyref.c writes it: NetKey and
 * AppKey updates in one outer transaction; a failure part-way rolls both
 * back, so no half-started refresh (new NetKey, old AppKey) is left behind.
 */
Test(store_keys, key_refresh_start_is_atomic)
{
	struct store_netkey k;
	struct store_appkey a;

	cr_assert_eq(store_appkey_add(f.s, 1, 0, appkey), 0);
	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_netkey_update(f.s, 0, newkey), 0);
	cr_assert_eq(store_appkey_update(f.s, 7, devkey), -ENOENT);
	cr_assert_eq(store_rollback(f.s), 0);
	cr_assert_eq(store_netkey_get(f.s, 0, &k), 0);
	cr_assert_eq(k.phase, STORE_KR_NORMAL);
	cr_assert_not(k.has_old);
	cr_assert_arr_eq(k.key, netkey0, 16);
	cr_assert_eq(store_appkey_get(f.s, 1, &a), 0);
	cr_assert_not(a.has_old);
	cr_assert_arr_eq(a.key, appkey, 16);

	cr_assert_eq(store_begin(f.s), 0);
	cr_assert_eq(store_netkey_update(f.s, 0, newkey), 0);
	cr_assert_eq(store_appkey_update(f.s, 1, devkey), 0);
	cr_assert_eq(store_commit(f.s), 0);
	cr_assert_eq(store_netkey_get(f.s, 0, &k), 0);
	cr_assert_eq(k.phase, STORE_KR_PHASE1);
	cr_assert_arr_eq(k.key, newkey, 16);
	cr_assert_eq(store_appkey_get(f.s, 1, &a), 0);
	cr_assert(a.has_old);
	cr_assert_arr_eq(a.key, devkey, 16);
}

/* AppKey add/get/list/delete, bound NetKey checked. */
Test(store_keys, appkey_verbs)
{
	struct store_appkey a, *list;
	size_t n;

	cr_assert_eq(store_appkey_add(f.s, 5, 0, appkey), 0);
	cr_assert_eq(store_appkey_add(f.s, 5, 0, appkey), -EEXIST);
	cr_assert_eq(store_appkey_add(f.s, 6, 3, appkey), -ENOENT);
	cr_assert_eq(store_appkey_get(f.s, 5, &a), 0);
	cr_assert_eq(a.net_idx, 0);
	cr_assert_arr_eq(a.key, appkey, 16);
	cr_assert_eq(a.created_ms, f.now);
	cr_assert_eq(store_appkey_list(f.s, &list, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(list[0].idx, 5);
	store_appkeys_free(list, n);
	cr_assert_eq(store_appkey_delete(f.s, 5), 0);
	cr_assert_eq(store_appkey_delete(f.s, 5), -ENOENT);
	cr_assert_eq(store_appkey_list(f.s, &list, &n), 0);
	cr_assert_eq(n, 0);
	store_appkeys_free(list, n);
}

/* True when needle occurs in the file at path. */
static bool file_contains(const char *path, const uint8_t *needle, size_t len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	size_t size, got;
	bool found = false;

	if (!fp) {
		return false;
	}
	fseek(fp, 0, SEEK_END);
	size = (size_t)ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(size + 1);
	cr_assert_not_null(buf);
	got = fread(buf, 1, size, fp);
	fclose(fp);
	for (size_t i = 0; i + len <= got && !found; i++) {
		found = memcmp(buf + i, needle, len) == 0;
	}
	free(buf);
	return found;
}

/*
 * The database and its WAL reveal no key: none of the NetKey, old NetKey,
 * AppKey or DevKey bytes appear in them, while the (public) node UUID,
 * stored in the clear, does, which shows the scan reads the right bytes.
 */
Test(store_keys, database_reveals_no_key)
{
	char wal[160];
	uint8_t uuid[16];
	struct store_node n = {.unicast = 0x20, .elements = 1};
	const uint8_t *secrets[] = {netkey0, appkey, devkey, newkey};

	fx_seed(uuid, 9, 0x11);
	memcpy(n.uuid, uuid, 16);
	cr_assert_eq(store_appkey_add(f.s, 1, 0, appkey), 0);
	cr_assert_eq(store_node_add(f.s, &n, devkey, 0), 0);
	cr_assert_eq(store_netkey_update(f.s, 0, newkey), 0);
	snprintf(wal, sizeof(wal), "%s-wal", f.db);
	cr_assert(file_contains(wal, uuid, 16) || file_contains(f.db, uuid, 16));
	for (size_t i = 0; i < 4; i++) {
		cr_assert_not(file_contains(f.db, secrets[i], 16), "key %zu in .db", i);
		cr_assert_not(file_contains(wal, secrets[i], 16), "key %zu in -wal", i);
	}
	/* After a checkpoint (close) everything is in the main file: still no key. */
	fx_close(&f);
	cr_assert(file_contains(f.db, uuid, 16));
	for (size_t i = 0; i < 4; i++) {
		cr_assert_not(file_contains(f.db, secrets[i], 16), "key %zu in .db", i);
	}
	fx_open(&f);
}

/* Another master key does not open a database holding sealed keys: -EKEYREJECTED at open. */
Test(store_keys, wrong_master_key)
{
	uint8_t other[32];
	int err = 0;
	FILE *fp;

	cr_assert_eq(store_appkey_add(f.s, 1, 0, appkey), 0);
	cr_assert_eq(fx_node(f.s, 0x20, 1, 3), 0);
	fx_close(&f);
	memset(other, 0x42, sizeof(other));
	fp = fopen(f.key, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(other, 1, sizeof(other), fp), sizeof(other));
	fclose(fp);
	/* Refused at open, with a sentence that says what is wrong (not "Permission denied"). */
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -EKEYREJECTED);
	cr_assert_str_eq(
	    store_strerror(err),
	    "master key does not open the inventory: wrong master key for this database");
}

/* A sealed blob copied into another row does not open there. */
Test(store_keys, swapped_blobs_fail)
{
	struct store_netkey k;

	cr_assert_eq(store_netkey_add(f.s, 1, newkey), 0);
	fx_sql(&f, "UPDATE netkeys SET key = (SELECT key FROM netkeys WHERE idx = 0)"
		   " WHERE idx = 1");
	cr_assert_eq(store_netkey_get(f.s, 1, &k), -EACCES);
	cr_assert_eq(store_netkey_get(f.s, 0, &k), 0);
}
