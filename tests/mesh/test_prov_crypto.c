#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/crypto.h"
#include "mesh/prov_crypto.h"
#include "mesh/prov_pdu.h"
#include "tests/util/tv.h"

/*
 * Every intermediate of the provisioning key chain against the sample data
 * of Mesh Protocol v1.1 §8.7 (CMAC) and the 1.1 HMAC sample
 * (vectors.json provisioning.cmac_sample / hmac_sample).
 */

struct sample {
	json_t *j;
	uint8_t alg;
	size_t vlen;
	uint8_t prov_priv[32], dev_priv[32], prov_pub[64], dev_pub[64], secret[32];
	uint8_t invite[1], caps[11], start[5], auth[32];
	uint8_t rand_prov[32], rand_dev[32];
	uint8_t inputs[PROV_CONF_INPUTS_LEN];
	uint8_t conf_salt[32], conf_key[32], conf_prov[32], conf_dev[32];
	uint8_t prov_salt[16], session_key[16], nonce[13], dev_key[16];
	uint8_t plain[25], enc[25], mic[8];
};

static void need(json_t *j, const char *key, uint8_t *out, size_t len)
{
	int n = tv_bytes(j, key, out, len);

	cr_assert_eq(n, (int)len, "vector %s: %d octets, want %zu", key, n, len);
}

static void load(struct sample *s, const char *name)
{
	char path[64];

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "provisioning.%s", name);
	s->j = tv_get(path);
	cr_assert_not_null(s->j);
	need(s->j, "StartPDUValue", s->start, 5);
	s->alg = s->start[0];
	s->vlen = prov_alg_value_len(s->alg);
	cr_assert(s->vlen == 16 || s->vlen == 32);
	need(s->j, "ProvisionerPrivateKey", s->prov_priv, 32);
	need(s->j, "DevicePrivateKey", s->dev_priv, 32);
	need(s->j, "ProvisionerPublicKey_XY", s->prov_pub, 64);
	need(s->j, "DevicePublicKey_XY", s->dev_pub, 64);
	need(s->j, "ECDHSecret", s->secret, 32);
	need(s->j, "InvitePDUValue", s->invite, 1);
	need(s->j, "CapabilitiesPDUValue", s->caps, 11);
	need(s->j, "AuthValue", s->auth, s->vlen);
	need(s->j, "RandomProvisioner", s->rand_prov, s->vlen);
	need(s->j, "RandomDevice", s->rand_dev, s->vlen);
	need(s->j, "ConfirmationInputs", s->inputs, PROV_CONF_INPUTS_LEN);
	need(s->j, "ConfirmationSalt", s->conf_salt, s->vlen);
	need(s->j, "ConfirmationKey", s->conf_key, s->vlen);
	need(s->j, "ConfirmationProvisioner", s->conf_prov, s->vlen);
	need(s->j, "ConfirmationDevice", s->conf_dev, s->vlen);
	need(s->j, "ProvisioningSalt", s->prov_salt, 16);
	need(s->j, "SessionKey", s->session_key, 16);
	need(s->j, "SessionNonce", s->nonce, 13);
	need(s->j, "DeviceKey", s->dev_key, 16);
	need(s->j, "ProvisioningData_plaintext", s->plain, 25);
	need(s->j, "EncProvisioningData", s->enc, 25);
	need(s->j, "ProvisioningDataMIC", s->mic, 8);
}

#define assert_bytes(got, want, n, what)                                                           \
	cr_assert(memcmp((got), (want), (n)) == 0, "%s: got %s", (what), tv_tohex((got), (n)))

static void check_ecdh(const char *name)
{
	struct sample s;
	uint8_t pub[64], secret[32];

	load(&s, name);
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(s.prov_priv, pub), 0);
	assert_bytes(pub, s.prov_pub, 64, "provisioner public key");
	cr_assert_eq(mesh_crypto_p256_pub_from_priv(s.dev_priv, pub), 0);
	assert_bytes(pub, s.dev_pub, 64, "device public key");
	cr_assert_eq(mesh_crypto_p256_ecdh(s.prov_priv, s.dev_pub, secret), 0);
	assert_bytes(secret, s.secret, 32, "ECDH secret (provisioner side)");
	cr_assert_eq(mesh_crypto_p256_ecdh(s.dev_priv, s.prov_pub, secret), 0);
	assert_bytes(secret, s.secret, 32, "ECDH secret (device side)");
}

static void check_chain(const char *name)
{
	struct sample s;
	uint8_t inputs[PROV_CONF_INPUTS_LEN], v[32], salt[16], key[16], nonce[13];

	load(&s, name);
	prov_crypto_conf_inputs(s.invite, s.caps, s.start, s.prov_pub, s.dev_pub, inputs);
	assert_bytes(inputs, s.inputs, PROV_CONF_INPUTS_LEN, "ConfirmationInputs");

	cr_assert_eq(prov_crypto_conf_salt(s.alg, inputs, v), 0);
	assert_bytes(v, s.conf_salt, s.vlen, "ConfirmationSalt");
	cr_assert_eq(prov_crypto_conf_key(s.alg, s.secret, s.conf_salt, s.auth, v), 0);
	assert_bytes(v, s.conf_key, s.vlen, "ConfirmationKey");
	cr_assert_eq(prov_crypto_confirmation(s.alg, s.conf_key, s.rand_prov, s.auth, v), 0);
	assert_bytes(v, s.conf_prov, s.vlen, "ConfirmationProvisioner");
	cr_assert_eq(prov_crypto_confirmation(s.alg, s.conf_key, s.rand_dev, s.auth, v), 0);
	assert_bytes(v, s.conf_dev, s.vlen, "ConfirmationDevice");

	cr_assert_eq(prov_crypto_prov_salt(s.alg, s.conf_salt, s.rand_prov, s.rand_dev, salt), 0);
	assert_bytes(salt, s.prov_salt, 16, "ProvisioningSalt");
	cr_assert_eq(prov_crypto_session_key(s.secret, s.prov_salt, key), 0);
	assert_bytes(key, s.session_key, 16, "SessionKey");
	cr_assert_eq(prov_crypto_session_nonce(s.secret, s.prov_salt, nonce), 0);
	assert_bytes(nonce, s.nonce, 13, "SessionNonce");
	cr_assert_eq(prov_crypto_device_key(s.secret, s.prov_salt, key), 0);
	assert_bytes(key, s.dev_key, 16, "DeviceKey");
}

static void check_data(const char *name)
{
	struct sample s;
	uint8_t enc[25], mic[8], plain[25], pdu[1 + 33];
	struct prov_data d;

	load(&s, name);
	cr_assert_eq(prov_crypto_data_encrypt(s.session_key, s.nonce, s.plain, enc, mic), 0);
	assert_bytes(enc, s.enc, 25, "EncProvisioningData");
	assert_bytes(mic, s.mic, 8, "ProvisioningDataMIC");
	cr_assert_eq(tv_bytes(s.j, "ProvisioningDataPDU", pdu, sizeof(pdu)), 34);
	assert_bytes(pdu + 1, enc, 25, "Data PDU ciphertext");
	assert_bytes(pdu + 26, mic, 8, "Data PDU MIC");

	cr_assert_eq(prov_crypto_data_decrypt(s.session_key, s.nonce, s.enc, s.mic, plain), 0);
	assert_bytes(plain, s.plain, 25, "decrypted Provisioning Data");
	prov_data_decode(plain, &d);
	cr_assert_eq(d.net_idx, 0x0567);
	cr_assert_eq(d.flags, 0x00);
	cr_assert_eq(d.iv_index, 0x01020304);
	cr_assert_eq(d.unicast, 0x0b0c);
}

/* The sample private keys give the sample public keys and ECDH secret (§8.7.1-8.7.4). */
Test(prov_crypto, s8_7_cmac_ecdh)
{
	check_ecdh("cmac_sample");
}

/* The HMAC sample uses the same key pairs; checked separately so the vectors cannot drift. */
Test(prov_crypto, s8_7_hmac_ecdh)
{
	check_ecdh("hmac_sample");
}

/* CMAC: ConfirmationInputs through DeviceKey reproduce §8.7 exactly. */
Test(prov_crypto, s8_7_cmac_chain)
{
	check_chain("cmac_sample");
}

/* HMAC: s2/k5/HMAC-SHA256 confirmation chain with a 32-octet static AuthValue. */
Test(prov_crypto, hmac_sample_chain)
{
	check_chain("hmac_sample");
}

/* CMAC: Provisioning Data encrypts to the sample ciphertext and MIC, and back. */
Test(prov_crypto, s8_7_cmac_data)
{
	check_data("cmac_sample");
}

/* HMAC: Provisioning Data encrypts to the sample ciphertext and MIC, and back. */
Test(prov_crypto, hmac_sample_data)
{
	check_data("hmac_sample");
}

/* A flipped bit in the ciphertext or MIC fails with -EACCES and leaves no plaintext. */
Test(prov_crypto, data_decrypt_rejects_tampering)
{
	struct sample s;
	uint8_t plain[25];

	load(&s, "cmac_sample");
	memset(plain, 0xa5, sizeof(plain));
	s.mic[7] ^= 0x01;
	cr_assert_eq(prov_crypto_data_decrypt(s.session_key, s.nonce, s.enc, s.mic, plain),
		     -EACCES);
	s.mic[7] ^= 0x01;
	s.enc[0] ^= 0x80;
	cr_assert_eq(prov_crypto_data_decrypt(s.session_key, s.nonce, s.enc, s.mic, plain),
		     -EACCES);
	for (size_t i = 0; i < sizeof(plain); i++) {
		cr_assert(plain[i] == 0xa5 || plain[i] == 0, "plaintext leaked at %zu", i);
	}
}

/* The confirmation depends on the AuthValue: a wrong static OOB value changes it. */
Test(prov_crypto, confirmation_depends_on_authvalue)
{
	struct sample s;
	uint8_t key[32], v[32];

	for (int i = 0; i < 2; i++) {
		load(&s, i ? "hmac_sample" : "cmac_sample");
		s.auth[s.vlen - 1] ^= 0x01;
		cr_assert_eq(prov_crypto_conf_key(s.alg, s.secret, s.conf_salt, s.auth, key), 0);
		cr_assert_eq(prov_crypto_confirmation(s.alg, key, s.rand_prov, s.auth, v), 0);
		cr_assert(memcmp(v, s.conf_prov, s.vlen) != 0);
	}
}

/* An unknown algorithm and NULL arguments are refused with -EINVAL. */
Test(prov_crypto, bad_arguments)
{
	uint8_t in[PROV_CONF_INPUTS_LEN] = {0}, out[32], k[32] = {0};

	cr_assert_eq(prov_crypto_conf_salt(2, in, out), -EINVAL);
	cr_assert_eq(prov_crypto_conf_key(2, k, k, k, out), -EINVAL);
	cr_assert_eq(prov_crypto_confirmation(0x3f, k, k, k, out), -EINVAL);
	cr_assert_eq(prov_crypto_prov_salt(2, k, k, k, out), -EINVAL);
	cr_assert_eq(prov_crypto_conf_salt(PROV_ALG_CMAC, NULL, out), -EINVAL);
	cr_assert_eq(prov_crypto_session_key(NULL, k, out), -EINVAL);
	cr_assert_eq(prov_crypto_session_nonce(k, k, NULL), -EINVAL);
	cr_assert_eq(prov_crypto_data_encrypt(k, k, NULL, out, out), -EINVAL);
}
