/*
 * The provisioning key chain (Mesh Protocol v1.1 §5.4.2.3-§5.4.2.5) as pure
 * functions, one per intermediate value, so tests can check each against
 * the spec's sample data (vectors.json "provisioning").
 *
 * `alg` is the Start.Algorithm value (enum prov_alg in prov_pdu.h):
 *
 *   CMAC (BTM_ECDH_P256_CMAC_AES128_AES_CCM), values of 16 octets:
 *     ConfirmationSalt = s1(ConfirmationInputs)
 *     ConfirmationKey  = k1(ECDHSecret, ConfirmationSalt, "prck")
 *     Confirmation     = AES-CMAC(ConfirmationKey, Random || AuthValue)
 *   HMAC (BTM_ECDH_P256_HMAC_SHA256_AES_CCM), values of 32 octets:
 *     ConfirmationSalt = s2(ConfirmationInputs)
 *     ConfirmationKey  = k5(ECDHSecret || AuthValue, ConfirmationSalt, "prck256")
 *     Confirmation     = HMAC-SHA256(ConfirmationKey, Random)
 *   Both:
 *     ProvisioningSalt = s1(ConfirmationSalt || RandomProvisioner || RandomDevice)
 *     SessionKey = k1(ECDHSecret, ProvisioningSalt, "prsk")
 *     SessionNonce = last 13 octets of k1(ECDHSecret, ProvisioningSalt, "prsn")
 *     DeviceKey = k1(ECDHSecret, ProvisioningSalt, "prdk")
 *     Provisioning Data = AES-CCM(SessionKey, SessionNonce, 25 octets, MIC 8)
 *
 * Salts, keys, confirmations, randoms and AuthValues are
 * prov_alg_value_len(alg) octets (16 or 32) unless a size is written.
 * Functions return 0, -EINVAL for an unknown algorithm or NULL pointer,
 * -EACCES when a MIC does not verify, -EIO when the crypto library fails.
 * Outputs are written only on success; intermediates are wiped.
 */
#ifndef MESH_PROV_CRYPTO_H
#define MESH_PROV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define PROV_CONF_INPUTS_LEN 145
#define PROV_SESSION_NONCE_LEN 13

/*
 * ConfirmationInputs = Invite params (1) || Capabilities params (11) ||
 * Start params (5) || provisioner public key (64) || device public key (64).
 * The PDU type octets are not part of it (§5.4.2.5).
 */
void prov_crypto_conf_inputs(const uint8_t invite[1], const uint8_t caps[11],
			     const uint8_t start[5], const uint8_t prov_pub[64],
			     const uint8_t dev_pub[64], uint8_t out[PROV_CONF_INPUTS_LEN]);

int prov_crypto_conf_salt(uint8_t alg, const uint8_t inputs[PROV_CONF_INPUTS_LEN], uint8_t *salt);

/* auth is the AuthValue (16 or 32 octets by algorithm). */
int prov_crypto_conf_key(uint8_t alg, const uint8_t secret[32], const uint8_t *salt,
			 const uint8_t *auth, uint8_t *key);

/* Confirmation of one side's Random. */
int prov_crypto_confirmation(uint8_t alg, const uint8_t *conf_key, const uint8_t *random,
			     const uint8_t *auth, uint8_t *conf);

int prov_crypto_prov_salt(uint8_t alg, const uint8_t *conf_salt, const uint8_t *rand_prov,
			  const uint8_t *rand_dev, uint8_t salt[16]);

int prov_crypto_session_key(const uint8_t secret[32], const uint8_t prov_salt[16], uint8_t key[16]);
int prov_crypto_session_nonce(const uint8_t secret[32], const uint8_t prov_salt[16],
			      uint8_t nonce[PROV_SESSION_NONCE_LEN]);
int prov_crypto_device_key(const uint8_t secret[32], const uint8_t prov_salt[16],
			   uint8_t dev_key[16]);

/* Encrypt the 25-octet Provisioning Data plaintext; 8-octet MIC. */
int prov_crypto_data_encrypt(const uint8_t session_key[16],
			     const uint8_t nonce[PROV_SESSION_NONCE_LEN], const uint8_t plain[25],
			     uint8_t enc[25], uint8_t mic[8]);
/* Decrypt and verify; -EACCES (and plain wiped) when the MIC does not match. */
int prov_crypto_data_decrypt(const uint8_t session_key[16],
			     const uint8_t nonce[PROV_SESSION_NONCE_LEN], const uint8_t enc[25],
			     const uint8_t mic[8], uint8_t plain[25]);

#endif /* MESH_PROV_CRYPTO_H */
