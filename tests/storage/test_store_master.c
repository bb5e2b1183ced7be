#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "storage/store_int.h"
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

TestSuite(store_master, .init = setup, .fini = teardown);

static void write_file(const char *path, const void *p, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, p, len), (ssize_t)len);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* The fixture's key file: the one that opens its database (which holds sealed keys). */
static void read_key(uint8_t out[32])
{
	int fd = open(f.key, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(read(fd, out, 32), 32);
	close(fd);
}

/* First start creates a 32-octet key file readable by its owner only. */
Test(store_master, created_0600)
{
	struct stat st;

	cr_assert_eq(stat(f.key, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_size, 32);
}

/* A key file readable by group or others is refused with -EPERM. */
Test(store_master, refuses_group_or_world_readable)
{
	uint8_t key[32] = {0};
	int err = 0;
	const mode_t modes[] = {0640, 0604, 0660, 0644};

	read_key(key);
	fx_close(&f);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_file(f.key, key, sizeof(key), modes[i]);
		cr_assert_null(store_open(f.db, f.key, &err));
		cr_assert_eq(err, -EPERM, "mode %o", modes[i]);
	}
	write_file(f.key, key, sizeof(key), 0600);
	fx_open(&f);
}

/* A key file of the wrong size, or a symlink, is refused with -EBADF. */
Test(store_master, refuses_wrong_size_and_symlink)
{
	uint8_t key[33] = {0};
	char link[160];
	int err = 0;

	read_key(key);
	fx_close(&f);
	write_file(f.key, key, 31, 0600);
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -EBADF);
	write_file(f.key, key, 33, 0600);
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -EBADF);
	write_file(f.key, key, 32, 0600);
	snprintf(link, sizeof(link), "%s/link.key", f.dir);
	cr_assert_eq(symlink(f.key, link), 0);
	cr_assert_null(store_open(f.db, link, &err));
	cr_assert_eq(err, -EBADF);
	fx_open(&f);
}

/* A missing key file is not recreated once the database holds sealed keys. */
Test(store_master, missing_key_with_sealed_keys)
{
	struct stat st;
	int err = 0;

	fx_close(&f);
	cr_assert_eq(unlink(f.key), 0);
	cr_assert_null(store_open(f.db, f.key, &err));
	cr_assert_eq(err, -ENOKEY);
	cr_assert_eq(stat(f.key, &st), -1, "no new key file was written");
	cr_assert_eq(errno, ENOENT);
	/* teardown needs an open store */
	snprintf(f.db, sizeof(f.db), "%s/other.db", f.dir);
	fx_open(&f);
}

/* Sealing gives IV || ciphertext || tag; opening needs the same additional data. */
Test(store_master, seal_binds_additional_data)
{
	const uint8_t key[16] = {0xf7, 0xa2, 0xa4, 0x4f, 0x8e, 0x8a, 0x80, 0x29,
				 0x06, 0x4f, 0x17, 0x3d, 0xdc, 0x1e, 0x2b, 0x00};
	uint8_t a[STORE_SEALED_LEN], b[STORE_SEALED_LEN], out[16];

	cr_assert_eq(store_seal(f.s, "appkey:1", key, a), 0);
	cr_assert_eq(store_seal(f.s, "appkey:1", key, b), 0);
	cr_assert(memcmp(a, b, 12) != 0, "a fresh IV per seal");
	cr_assert(memcmp(a + 12, key, 16) != 0, "ciphertext differs from the key");
	cr_assert_eq(store_unseal(f.s, "appkey:1", a, out), 0);
	cr_assert_arr_eq(out, key, 16);
	cr_assert_eq(store_unseal(f.s, "appkey:2", a, out), -EACCES);
	a[20] ^= 1;
	cr_assert_eq(store_unseal(f.s, "appkey:1", a, out), -EACCES);
}
