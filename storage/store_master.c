/*
 * The master key file and sealing of keys at rest.
 *
 * The master key is 32 octets from the CSPRNG in a file of its own, mode
 * 0600, so that a copy of the database (a backup, a bug report) reveals no
 * NetKey, AppKey or DevKey.  Each key is sealed with AES-256-GCM as
 * IV (12, random) || ciphertext (16) || tag (16); the additional data names
 * the row ("netkey:0", "devkey:<uuid>"), so a blob copied into another row
 * fails to open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/sec.h"
#include "storage/store_int.h"

static int read_key(int fd, uint8_t key[STORE_MASTER_KEY_LEN])
{
	uint8_t buf[STORE_MASTER_KEY_LEN + 1];
	size_t got = 0;
	struct stat st;

	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		return -EBADF;
	}
	/* Anyone else able to read the file could unseal every key. */
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) || st.st_uid != geteuid()) {
		return -EPERM;
	}
	if (st.st_size != STORE_MASTER_KEY_LEN) {
		return -EBADF;
	}
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			sec_wipe(buf, sizeof(buf));
			return -errno;
		}
		if (n == 0) {
			break;
		}
		got += (size_t)n;
	}
	if (got != STORE_MASTER_KEY_LEN) {
		sec_wipe(buf, sizeof(buf));
		return -EBADF;
	}
	memcpy(key, buf, STORE_MASTER_KEY_LEN);
	sec_wipe(buf, sizeof(buf));
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int create_key(const char *path, uint8_t key[STORE_MASTER_KEY_LEN])
{
	uint8_t fresh[STORE_MASTER_KEY_LEN];
	int fd, rc;

	/* O_EXCL: never overwrite a key, even one created by a racing process. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	rc = sec_random(fresh, sizeof(fresh));
	if (rc == 0) {
		rc = write_all(fd, fresh, sizeof(fresh));
	}
	if (rc == 0 && fsync(fd) < 0) {
		rc = -errno;
	}
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
	}
	if (rc) {
		unlink(path);
	} else {
		memcpy(key, fresh, sizeof(fresh));
	}
	sec_wipe(fresh, sizeof(fresh));
	return rc;
}

int store_master_load(const char *path, bool create, uint8_t key[STORE_MASTER_KEY_LEN],
		      bool *created)
{
	int fd, rc;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && create) {
		rc = create_key(path, key);
		if (rc != -EEXIST) {
			if (rc == 0 && created) {
				*created = true;
			}
			return rc;
		}
		/* Someone else created it in between: read theirs. */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		return errno == ELOOP ? -EBADF : -errno;
	}
	rc = read_key(fd, key);
	close(fd);
	if (rc == 0 && created) {
		*created = false;
	}
	return rc;
}

int store_seal(const struct store *s, const char *aad, const uint8_t key[STORE_KEY_LEN],
	       uint8_t out[STORE_SEALED_LEN])
{
	uint8_t *iv = out, *ct = out + SEC_GCM_IV_LEN, *tag = ct + STORE_KEY_LEN;
	int rc;

	/* A random 96-bit IV per seal; a few thousand seals per master key stay far from
	 * collisions. */
	rc = sec_random(iv, SEC_GCM_IV_LEN);
	if (rc) {
		return rc;
	}
	return sec_gcm256_seal(s->master, iv, (const uint8_t *)aad, strlen(aad), key, STORE_KEY_LEN,
			       ct, tag);
}

int store_unseal(const struct store *s, const char *aad, const uint8_t in[STORE_SEALED_LEN],
		 uint8_t key[STORE_KEY_LEN])
{
	const uint8_t *iv = in, *ct = in + SEC_GCM_IV_LEN, *tag = ct + STORE_KEY_LEN;
	uint8_t tmp[STORE_KEY_LEN];
	int rc;

	rc = sec_gcm256_open(s->master, iv, (const uint8_t *)aad, strlen(aad), ct, STORE_KEY_LEN,
			     tmp, tag);
	if (rc == 0) {
		memcpy(key, tmp, sizeof(tmp));
	}
	sec_wipe(tmp, sizeof(tmp));
	return rc;
}

int store_unseal_col(struct store *s, sqlite3_stmt *st, int col, const char *aad,
		     uint8_t key[STORE_KEY_LEN])
{
	uint8_t blob[STORE_SEALED_LEN];

	if (!store_col_blob(st, col, blob, sizeof(blob))) {
		snprintf(s->errmsg, sizeof(s->errmsg), "sealed key of the wrong size (%s)", aad);
		return -EIO;
	}
	return store_unseal(s, aad, blob, key);
}
