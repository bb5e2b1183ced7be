#include <errno.h>

#include "storage/store_manifest.h"
#include "tests/storage/fixture.h"

static struct fx f;

static void teardown(void)
{
	fx_fini(&f);
}

static const uint8_t key64[64] = {
    0xf4, 0x65, 0xe4, 0x3f, 0xf2, 0x3d, 0x3f, 0x1b, 0x9d, 0xc7, 0xdf, 0xc0, 0x4d, 0xa8, 0x75, 0x81,
    0x84, 0xdb, 0xc9, 0x66, 0x20, 0x47, 0x96, 0xec, 0xcf, 0x0d, 0x6c, 0xf5, 0xe1, 0x65, 0x00, 0xcc,
    0x02, 0x01, 0xd0, 0x48, 0xbc, 0xbb, 0xd8, 0x99, 0xee, 0xef, 0xc4, 0x24, 0x16, 0x4e, 0x33, 0xc2,
    0x01, 0xc2, 0xb0, 0x10, 0xca, 0x6b, 0x4d, 0x43, 0xa8, 0xa1, 0x55, 0xca, 0xd8, 0xec, 0xb2, 0x79};
static const uint8_t oob16[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};

/* Rows read back: uuid's last octet, data and secret. */
struct seen {
	size_t n;
	uint8_t last[8];
	char data[8][64];
	uint8_t secret[8][64];
	size_t len[8];
};

static int collect(void *ctx, uint32_t idx, const uint8_t uuid[16], const char *data,
		   const uint8_t *secret, size_t len)
{
	struct seen *s = ctx;

	cr_assert_eq(idx, s->n);
	s->last[s->n] = uuid[15];
	snprintf(s->data[s->n], sizeof(s->data[0]), "%s", data);
	if (len) {
		memcpy(s->secret[s->n], secret, len);
	}
	s->len[s->n++] = len;
	return 0;
}

static uint64_t put3(void)
{
	struct store_manifest_row rows[3] = {
	    {.uuid = {[15] = 1}, .data = "{\"name\":\"a\"}"},
	    {.uuid = {[15] = 2}, .data = "{\"name\":\"b\"}", .secret = oob16, .secret_len = 16},
	    {.uuid = {[15] = 3}, .data = "{}", .secret = key64, .secret_len = 64},
	};
	uint64_t id = 0;

	cr_assert_eq(store_manifest_put(f.s, &id, "csv", rows, 3), 0);
	cr_assert_neq(id, 0);
	return id;
}

/* Rows and secrets come back as stored; the secrets are not in the file in clear. */
Test(store_manifest, put_get_rows, .fini = teardown)
{
	struct store_manifest m;
	struct seen s = {0};
	uint64_t id;

	fx_init(&f);
	store_set_actor(f.s, "alice");
	id = put3();
	cr_assert_eq(store_manifest_get(f.s, id, &m), 0);
	cr_assert_str_eq(m.format, "csv");
	cr_assert_str_eq(m.created_by, "alice");
	cr_assert_eq(m.rows, 3);
	cr_assert_eq(m.created_ms, f.now);
	cr_assert_eq(store_manifest_rows(f.s, id, true, collect, &s), 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.last[2], 3);
	cr_assert_str_eq(s.data[1], "{\"name\":\"b\"}");
	cr_assert_eq(s.len[0], 0);
	cr_assert_eq(s.len[1], 16);
	cr_assert_arr_eq(s.secret[1], oob16, 16);
	cr_assert_eq(s.len[2], 64);
	cr_assert_arr_eq(s.secret[2], key64, 64);

	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_manifest_rows(f.s, id, false, collect, &s), 0);
	cr_assert_eq(s.len[2], 0, "no secret unless asked");
	fx_close(&f);

	/* Neither secret is in the database file as plain bytes. */
	{
		FILE *fp = fopen(f.db, "rb");
		static uint8_t buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), fp);

		fclose(fp);
		cr_assert_null(memmem(buf, n, key64, 16));
		cr_assert_null(memmem(buf, n, oob16, 16));
	}
	fx_open(&f);
}

/* Replacing swaps every row; the UUID is unique within a manifest; delete removes it. */
Test(store_manifest, replace_unique_delete, .fini = teardown)
{
	struct store_manifest_row one = {.uuid = {[15] = 9}, .data = "{}"};
	struct store_manifest_row dup[2] = {{.uuid = {1}, .data = "{}"},
					    {.uuid = {1}, .data = "{}"}};
	struct store_manifest *list;
	struct seen s = {0};
	uint64_t id, other = 12345, fresh = 0;
	size_t n;

	fx_init(&f);
	id = put3();
	f.now += 1000;
	cr_assert_eq(store_manifest_put(f.s, &id, "json", &one, 1), 0);
	cr_assert_eq(store_manifest_rows(f.s, id, true, collect, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.last[0], 9);
	cr_assert_eq(store_manifest_put(f.s, &other, "csv", &one, 1), -ENOENT);
	cr_assert_eq(store_manifest_put(f.s, &fresh, "csv", dup, 2), -EEXIST);
	cr_assert_eq(store_manifest_list(f.s, &list, &n), 0);
	cr_assert_eq(n, 1, "the refused manifest left nothing behind");
	cr_assert_str_eq(list[0].format, "json");
	cr_assert_eq(list[0].updated_ms, f.now);
	free(list);
	cr_assert_eq(store_manifest_delete(f.s, id), 0);
	cr_assert_eq(store_manifest_delete(f.s, id), -ENOENT);
	cr_assert_eq(store_manifest_list(f.s, &list, &n), 0);
	cr_assert_eq(n, 0);
}

/* Bad input is refused before anything is written. */
Test(store_manifest, refuses_bad_rows, .fini = teardown)
{
	struct store_manifest_row r = {.data = "[1]"};
	uint64_t id = 0;

	fx_init(&f);
	cr_assert_eq(store_manifest_put(f.s, &id, "csv", &r, 1), -EINVAL, "not an object");
	r.data = "{}";
	r.secret = oob16;
	r.secret_len = 20;
	cr_assert_eq(store_manifest_put(f.s, &id, "csv", &r, 1), -EINVAL, "bad secret size");
	r.secret = NULL;
	r.secret_len = 16;
	cr_assert_eq(store_manifest_put(f.s, &id, "csv", &r, 1), -EINVAL, "no secret");
	cr_assert_eq(id, 0);
}

/* A sealed unit moved to another row does not open. */
Test(store_manifest, moved_secret_fails, .fini = teardown)
{
	struct seen s = {0};
	uint64_t id;

	fx_init(&f);
	id = put3();
	fx_close(&f);
	fx_sql(&f, "UPDATE manifest_rows SET secret_len = 16, sealed = (SELECT sealed FROM"
		   " manifest_rows WHERE idx = 1) WHERE idx = 0");
	fx_open(&f);
	cr_assert_eq(store_manifest_rows(f.s, id, true, collect, &s), -EACCES);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(store_manifest_rows(f.s, id, false, collect, &s), 0);
}
