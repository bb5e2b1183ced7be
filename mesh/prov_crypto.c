#include "mesh/prov_crypto.h"

#include <errno.h>
#include <string.h>

#include "mesh/crypto.h"
#include "mesh/prov_pdu.h"

void prov_crypto_conf_inputs(const uint8_t invite[1], const uint8_t caps[11],
			     const uint8_t start[5], const uint8_t prov_pub[64],
			     const uint8_t dev_pub[64], uint8_t out[PROV_CONF_INPUTS_LEN])
{
	memcpy(out, invite, PROV_PARAMS_INVITE);
	memcpy(out + 1, caps, PROV_PARAMS_CAPS);
	memcpy(out + 12, start, PROV_PARAMS_START);
	memcpy(out + 17, prov_pub, PROV_PUB_KEY_LEN);
	memcpy(out + 81, dev_pub, PROV_PUB_KEY_LEN);
}

int prov_crypto_conf_salt(uint8_t alg, const uint8_t inputs[PROV_CONF_INPUTS_LEN], uint8_t *salt)
{
	if (!inputs || !salt) {
		return -EINVAL;
	}
	switch (alg) {
	case PROV_ALG_CMAC:
		return mesh_crypto_s1(inputs, PROV_CONF_INPUTS_LEN, salt);
	case PROV_ALG_HMAC:
		return mesh_crypto_s2(inputs, PROV_CONF_INPUTS_LEN, salt);
	default:
		return -EINVAL;
	}
}

int prov_crypto_conf_key(uint8_t alg, const uint8_t secret[32], const uint8_t *salt,
			 const uint8_t *auth, uint8_t *key)
{
	static const uint8_t prck[] = {'p', 'r', 'c', 'k'};
	static const uint8_t prck256[] = {'p', 'r', 'c', 'k', '2', '5', '6'};
	uint8_t n[64];
	int err;

	if (!secret || !salt || !auth || !key) {
		return -EINVAL;
	}
	switch (alg) {
	case PROV_ALG_CMAC:
		/* The CMAC algorithm puts the AuthValue into the confirmation instead. */
		return mesh_crypto_k1(secret, 32, salt, prck, sizeof(prck), key);
	case PROV_ALG_HMAC:
		/* §5.4.2.4.2: the 32-octet AuthValue is keyed in with the secret. */
		memcpy(n, secret, 32);
		memcpy(n + 32, auth, 32);
		err = mesh_crypto_k5(n, sizeof(n), salt, prck256, sizeof(prck256), key);
		mesh_crypto_wipe(n, sizeof(n));
		return err;
	default:
		return -EINVAL;
	}
}

int prov_crypto_confirmation(uint8_t alg, const uint8_t *conf_key, const uint8_t *random,
			     const uint8_t *auth, uint8_t *conf)
{
	const uint8_t *parts[2];
	size_t lens[2];

	if (!conf_key || !random || !auth || !conf) {
		return -EINVAL;
	}
	switch (alg) {
	case PROV_ALG_CMAC:
		parts[0] = random;
		parts[1] = auth;
		lens[0] = 16;
		lens[1] = 16;
		return mesh_crypto_aes_cmac_v(conf_key, parts, lens, 2, conf);
	case PROV_ALG_HMAC:
		return mesh_crypto_hmac_sha256(conf_key, 32, random, 32, conf);
	default:
		return -EINVAL;
	}
}

int prov_crypto_prov_salt(uint8_t alg, const uint8_t *conf_salt, const uint8_t *rand_prov,
			  const uint8_t *rand_dev, uint8_t salt[16])
{
	uint8_t in[3 * 32];
	size_t n = prov_alg_value_len(alg);
	int err;

	if (!n || !conf_salt || !rand_prov || !rand_dev || !salt) {
		return -EINVAL;
	}
	memcpy(in, conf_salt, n);
	memcpy(in + n, rand_prov, n);
	memcpy(in + 2 * n, rand_dev, n);
	err = mesh_crypto_s1(in, 3 * n, salt);
	mesh_crypto_wipe(in, sizeof(in));
	return err;
}

/* k1(ECDHSecret, ProvisioningSalt, P) with a 4-letter P (§5.4.2.5). */
static int session_k1(const uint8_t secret[32], const uint8_t salt[16], const char p[4],
		      uint8_t out[16])
{
	if (!secret || !salt || !out) {
		return -EINVAL;
	}
	return mesh_crypto_k1(secret, 32, salt, (const uint8_t *)p, 4, out);
}

int prov_crypto_session_key(const uint8_t secret[32], const uint8_t prov_salt[16], uint8_t key[16])
{
	return session_k1(secret, prov_salt, "prsk", key);
}

int prov_crypto_session_nonce(const uint8_t secret[32], const uint8_t prov_salt[16],
			      uint8_t nonce[PROV_SESSION_NONCE_LEN])
{
	uint8_t full[16];
	int err;

	if (!nonce) {
		return -EINVAL;
	}
	err = session_k1(secret, prov_salt, "prsn", full);
	if (!err) {
		memcpy(nonce, full + 16 - PROV_SESSION_NONCE_LEN, PROV_SESSION_NONCE_LEN);
	}
	mesh_crypto_wipe(full, sizeof(full));
	return err;
}

int prov_crypto_device_key(const uint8_t secret[32], const uint8_t prov_salt[16],
			   uint8_t dev_key[16])
{
	return session_k1(secret, prov_salt, "prdk", dev_key);
}

int prov_crypto_data_encrypt(const uint8_t session_key[16],
			     const uint8_t nonce[PROV_SESSION_NONCE_LEN], const uint8_t plain[25],
			     uint8_t enc[25], uint8_t mic[8])
{
	if (!session_key || !nonce || !plain || !enc || !mic) {
		return -EINVAL;
	}
	return mesh_crypto_ccm_encrypt(session_key, nonce, plain, PROV_DATA_LEN, NULL, 0, enc, mic,
				       PROV_DATA_MIC_LEN);
}

int prov_crypto_data_decrypt(const uint8_t session_key[16],
			     const uint8_t nonce[PROV_SESSION_NONCE_LEN], const uint8_t enc[25],
			     const uint8_t mic[8], uint8_t plain[25])
{
	if (!session_key || !nonce || !enc || !mic || !plain) {
		return -EINVAL;
	}
	return mesh_crypto_ccm_decrypt(session_key, nonce, enc, PROV_DATA_LEN, NULL, 0, plain, mic,
				       PROV_DATA_MIC_LEN);
}
