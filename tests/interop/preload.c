/*
 * LD_PRELOAD library that lets an unmodified `bluetooth-meshd --io unit:PATH`
 * run on meshsim's BlueZ port on a kernel without AF_BLUETOOTH and AF_ALG
 * (../shared/peers/bluez.md).  Built by tests/interop/build.sh together with
 * mesh/crypto_openssl.c and crypto/sec_openssl.c; it is loaded into the
 * daemon only, never into meshgw or meshsim.
 *
 * 1. Socket fix-ups for the fd bound at $MESH_UNIT_PATH:
 *    - send() becomes sendto($MESH_PEER_PATH): the daemon never connects its
 *      socket, and connecting it here would fail before meshsim binds and
 *      would tie it to one meshsim instance.
 *    - recv(): the daemon hands buf+1 on with the full datagram length and
 *      drops datagrams of 9 octets or less.  Returning n-1 cancels the extra
 *      octet; adding 256 to a true length <= 9 passes its `size > 9` check,
 *      and its (uint8_t) cast restores the true length.  Without this the
 *      7-octet Transaction ACK and 8-octet Link Close never arrive.
 * 2. The 11 ell crypto entry points the daemon imports (AES-ECB, AES-CMAC,
 *    AES-CCM), implemented with meshgw's mesh/crypto.h.  Objects this library
 *    did not create are passed to the real ell through dlsym(RTLD_NEXT).
 *
 * The daemon is single-threaded, so the bookkeeping below needs no locks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "mesh/crypto.h"

/* The exported names are ell's, so the prototypes are declared here. */
#define EXPORT __attribute__((visibility("default")))

/* --- Sockets -------------------------------------------------------------- */

static int unit_fd = -1; /* the daemon's unit socket, once bound */

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len);
EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags);
EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags);

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = dlsym(RTLD_NEXT, "bind");
	const char *unit = getenv("MESH_UNIT_PATH");
	int rc;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	rc = real(fd, addr, len);
	if (rc == 0 && unit && addr && addr->sa_family == AF_UNIX &&
	    len > offsetof(struct sockaddr_un, sun_path)) {
		const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
		size_t max = len - offsetof(struct sockaddr_un, sun_path);

		if (strnlen(un->sun_path, max) == strlen(unit) &&
		    !strncmp(un->sun_path, unit, max)) {
			unit_fd = fd;
		}
	}
	return rc;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	ssize_t (*real)(int, const void *, size_t, int) = dlsym(RTLD_NEXT, "send");
	const char *peer = getenv("MESH_PEER_PATH");

	if (fd == unit_fd && peer) {
		struct sockaddr_un a = {.sun_family = AF_UNIX};

		if (strlen(peer) >= sizeof(a.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		strcpy(a.sun_path, peer);
		return sendto(fd, buf, len, flags, (struct sockaddr *)&a, sizeof(a));
	}
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(fd, buf, len, flags);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	ssize_t (*real)(int, void *, size_t, int) = dlsym(RTLD_NEXT, "recv");
	ssize_t n;

	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	n = real(fd, buf, len, flags);
	if (fd != unit_fd || n < 2 || ((const uint8_t *)buf)[0] == 0) {
		return n;
	}
	n -= 1;
	return n <= 9 ? n + 256 : n;
}

/* --- ell crypto ----------------------------------------------------------- */

#define L_CIPHER_AES 0          /* enum l_cipher_type */
#define L_AEAD_CIPHER_AES_CCM 0 /* enum l_aead_cipher_type */

/* A small registry of the objects this library created. */
#define OBJS_MAX 256

struct obj {
	int kind; /* 0 free, 1 cipher, 2 cmac, 3 ccm */
	uint8_t key[16];
	size_t tag_len;
	uint8_t *msg; /* cmac: bytes since the last digest */
	size_t len, cap;
};

static struct obj objs[OBJS_MAX];

static struct obj *obj_new(int kind, const void *key, size_t key_len)
{
	if (!key || key_len != 16) {
		return NULL;
	}
	for (size_t i = 0; i < OBJS_MAX; i++) {
		if (objs[i].kind == 0) {
			memset(&objs[i], 0, sizeof(objs[i]));
			objs[i].kind = kind;
			memcpy(objs[i].key, key, 16);
			return &objs[i];
		}
	}
	return NULL;
}

static struct obj *obj_get(const void *p, int kind)
{
	const struct obj *o = p;

	if (o >= objs && o < objs + OBJS_MAX && o->kind == kind) {
		return (struct obj *)o;
	}
	return NULL;
}

static void obj_free(struct obj *o)
{
	if (o->msg) {
		mesh_crypto_wipe(o->msg, o->cap);
		free(o->msg);
	}
	mesh_crypto_wipe(o, sizeof(*o));
}

#define REAL(name, type) ((type)dlsym(RTLD_NEXT, name))

EXPORT void *l_cipher_new(int type, const void *key, size_t key_length);
EXPORT bool l_cipher_encrypt(void *cipher, const void *in, void *out, size_t len);
EXPORT void l_cipher_free(void *cipher);
EXPORT void *l_checksum_new_cmac_aes(const void *key, size_t key_len);
EXPORT bool l_checksum_update(void *checksum, const void *data, size_t len);
EXPORT ssize_t l_checksum_get_digest(void *checksum, void *digest, size_t len);
EXPORT void l_checksum_free(void *checksum);
EXPORT void *l_aead_cipher_new(int type, const void *key, size_t key_length, size_t tag_length);
EXPORT bool l_aead_cipher_encrypt(void *cipher, const void *in, size_t in_len, const void *ad,
				  size_t ad_len, const void *nonce, size_t nonce_len, void *out,
				  size_t out_len);
EXPORT bool l_aead_cipher_decrypt(void *cipher, const void *in, size_t in_len, const void *ad,
				  size_t ad_len, const void *nonce, size_t nonce_len, void *out,
				  size_t out_len);
EXPORT void l_aead_cipher_free(void *cipher);

void *l_cipher_new(int type, const void *key, size_t key_length)
{
	void *(*real)(int, const void *, size_t) =
	    REAL("l_cipher_new", void *(*)(int, const void *, size_t));
	struct obj *o = type == L_CIPHER_AES ? obj_new(1, key, key_length) : NULL;

	if (o) {
		return o;
	}
	return real ? real(type, key, key_length) : NULL;
}

bool l_cipher_encrypt(void *cipher, const void *in, void *out, size_t len)
{
	struct obj *o = obj_get(cipher, 1);
	uint8_t blk[16];

	if (!o) {
		bool (*real)(void *, const void *, void *, size_t) =
		    REAL("l_cipher_encrypt", bool (*)(void *, const void *, void *, size_t));

		return real && real(cipher, in, out, len);
	}
	/* ell's L_CIPHER_AES is ECB over whole blocks. */
	if (!in || !out || len % 16) {
		return false;
	}
	for (size_t off = 0; off < len; off += 16) {
		if (mesh_crypto_aes_ecb(o->key, (const uint8_t *)in + off, blk) < 0) {
			return false;
		}
		memcpy((uint8_t *)out + off, blk, 16);
	}
	mesh_crypto_wipe(blk, sizeof(blk));
	return true;
}

void l_cipher_free(void *cipher)
{
	struct obj *o = obj_get(cipher, 1);

	if (o) {
		obj_free(o);
		return;
	}
	if (cipher) {
		void (*real)(void *) = REAL("l_cipher_free", void (*)(void *));

		if (real) {
			real(cipher);
		}
	}
}

void *l_checksum_new_cmac_aes(const void *key, size_t key_len)
{
	struct obj *o = obj_new(2, key, key_len);
	void *(*real)(const void *, size_t);

	if (o) {
		return o;
	}
	real = REAL("l_checksum_new_cmac_aes", void *(*)(const void *, size_t));
	return real ? real(key, key_len) : NULL;
}

bool l_checksum_update(void *checksum, const void *data, size_t len)
{
	struct obj *o = obj_get(checksum, 2);

	if (!o) {
		bool (*real)(void *, const void *, size_t) =
		    REAL("l_checksum_update", bool (*)(void *, const void *, size_t));

		return real && real(checksum, data, len);
	}
	if (len == 0) {
		return true;
	}
	if (!data || len > (1u << 20) - o->len) {
		return false;
	}
	if (o->len + len > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		uint8_t *nm;

		while (cap < o->len + len) {
			cap *= 2;
		}
		nm = malloc(cap);
		if (!nm) {
			return false;
		}
		if (o->msg) {
			memcpy(nm, o->msg, o->len);
			mesh_crypto_wipe(o->msg, o->cap);
			free(o->msg);
		}
		o->msg = nm;
		o->cap = cap;
	}
	memcpy(o->msg + o->len, data, len);
	o->len += len;
	return true;
}

/* Like ell: finalizes, copies up to len octets of the MAC, and resets the checksum. */
ssize_t l_checksum_get_digest(void *checksum, void *digest, size_t len)
{
	struct obj *o = obj_get(checksum, 2);
	uint8_t mac[16];
	size_t n;

	if (!o) {
		ssize_t (*real)(void *, void *, size_t) =
		    REAL("l_checksum_get_digest", ssize_t(*)(void *, void *, size_t));

		return real ? real(checksum, digest, len) : -EINVAL;
	}
	if (!digest) {
		return -EINVAL;
	}
	if (mesh_crypto_aes_cmac(o->key, o->msg, o->len, mac) < 0) {
		return -EIO;
	}
	n = len < 16 ? len : 16;
	memcpy(digest, mac, n);
	mesh_crypto_wipe(mac, sizeof(mac));
	if (o->msg) {
		mesh_crypto_wipe(o->msg, o->len);
	}
	o->len = 0;
	return (ssize_t)n;
}

void l_checksum_free(void *checksum)
{
	struct obj *o = obj_get(checksum, 2);

	if (o) {
		obj_free(o);
		return;
	}
	if (checksum) {
		void (*real)(void *) = REAL("l_checksum_free", void (*)(void *));

		if (real) {
			real(checksum);
		}
	}
}

void *l_aead_cipher_new(int type, const void *key, size_t key_length, size_t tag_length)
{
	struct obj *o = NULL;

	if (type == L_AEAD_CIPHER_AES_CCM &&
	    (tag_length == 4 || tag_length == 8 || tag_length == 16)) {
		o = obj_new(3, key, key_length);
	}
	if (o) {
		o->tag_len = tag_length;
		return o;
	}
	void *(*real)(int, const void *, size_t, size_t) =
	    REAL("l_aead_cipher_new", void *(*)(int, const void *, size_t, size_t));
	return real ? real(type, key, key_length, tag_length) : NULL;
}

/* ell's AEAD encrypt writes ciphertext || tag (out_len = in_len + tag length). */
bool l_aead_cipher_encrypt(void *cipher, const void *in, size_t in_len, const void *ad,
			   size_t ad_len, const void *nonce, size_t nonce_len, void *out,
			   size_t out_len)
{
	struct obj *o = obj_get(cipher, 3);

	if (!o) {
		bool (*real)(void *, const void *, size_t, const void *, size_t, const void *,
			     size_t, void *, size_t) =
		    REAL("l_aead_cipher_encrypt",
			 bool (*)(void *, const void *, size_t, const void *, size_t, const void *,
				  size_t, void *, size_t));

		return real && real(cipher, in, in_len, ad, ad_len, nonce, nonce_len, out, out_len);
	}
	if (!in || !out || !nonce || nonce_len != MESH_NONCE_LEN ||
	    out_len != in_len + o->tag_len) {
		return false;
	}
	return mesh_crypto_ccm_encrypt(o->key, nonce, in, in_len, ad_len ? ad : NULL, ad_len, out,
				       (uint8_t *)out + in_len, o->tag_len) == 0;
}

/* ell's AEAD decrypt takes ciphertext || tag and fails on a bad tag. */
bool l_aead_cipher_decrypt(void *cipher, const void *in, size_t in_len, const void *ad,
			   size_t ad_len, const void *nonce, size_t nonce_len, void *out,
			   size_t out_len)
{
	struct obj *o = obj_get(cipher, 3);

	if (!o) {
		bool (*real)(void *, const void *, size_t, const void *, size_t, const void *,
			     size_t, void *, size_t) =
		    REAL("l_aead_cipher_decrypt",
			 bool (*)(void *, const void *, size_t, const void *, size_t, const void *,
				  size_t, void *, size_t));

		return real && real(cipher, in, in_len, ad, ad_len, nonce, nonce_len, out, out_len);
	}
	if (!in || !out || !nonce || nonce_len != MESH_NONCE_LEN || in_len < o->tag_len ||
	    out_len != in_len - o->tag_len) {
		return false;
	}
	return mesh_crypto_ccm_decrypt(o->key, nonce, in, out_len, ad_len ? ad : NULL, ad_len, out,
				       (const uint8_t *)in + out_len, o->tag_len) == 0;
}

void l_aead_cipher_free(void *cipher)
{
	struct obj *o = obj_get(cipher, 3);

	if (o) {
		obj_free(o);
		return;
	}
	if (cipher) {
		void (*real)(void *) = REAL("l_aead_cipher_free", void (*)(void *));

		if (real) {
			real(cipher);
		}
	}
}
