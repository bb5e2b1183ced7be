/*
 * Provisioning PDU codec (Mesh Protocol v1.1 §5.4.1; formats.md §2).
 *
 * A Provisioning PDU is one octet (2 padding bits that must be zero, then a
 * 6-bit Type) followed by the Type's parameters.  prov_pdu_parse() checks
 * the type, the exact length and every field with a prohibited or RFU value
 * from one table before a caller sees any field, and says which Provisioning
 * Failed error code (enum prov_err) the spec asks for.  prov_pdu_build() is
 * the inverse.  The codec holds no state: the order of PDUs is checked by
 * the session (prov.h).
 *
 * Decoded values are plain structs; pointers inside struct prov_pdu point
 * into the parsed input (borrowed; valid while that input is).
 */
#ifndef MESH_PROV_PDU_H
#define MESH_PROV_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Provisioning PDU types (§5.4.1). */
enum prov_pdu_type {
	PROV_INVITE = 0x00,
	PROV_CAPABILITIES = 0x01,
	PROV_START = 0x02,
	PROV_PUB_KEY = 0x03,
	PROV_INPUT_COMPLETE = 0x04,
	PROV_CONFIRMATION = 0x05,
	PROV_RANDOM = 0x06,
	PROV_DATA = 0x07,
	PROV_COMPLETE = 0x08,
	PROV_FAILED = 0x09,
	PROV_RECORD_REQUEST = 0x0a,
	PROV_RECORD_RESPONSE = 0x0b,
	PROV_RECORDS_GET = 0x0c,
	PROV_RECORDS_LIST = 0x0d,
};
#define PROV_PDU_TYPES 0x0e /* first RFU type */

/*
 * Error codes carried by the Provisioning Failed PDU (§5.4.1.10).  They go
 * on the air and are separate from the negative-errno returns of the API.
 * 0x00 is prohibited on the air; the session API uses it as "no code".
 */
enum prov_err {
	PROV_ERR_PROHIBITED = 0x00,
	PROV_ERR_INVALID_PDU = 0x01,
	PROV_ERR_INVALID_FORMAT = 0x02,
	PROV_ERR_UNEXPECTED_PDU = 0x03,
	PROV_ERR_CONFIRMATION_FAILED = 0x04,
	PROV_ERR_OUT_OF_RESOURCES = 0x05,
	PROV_ERR_DECRYPTION_FAILED = 0x06,
	PROV_ERR_UNEXPECTED_ERROR = 0x07,
	PROV_ERR_CANNOT_ASSIGN_ADDR = 0x08,
	PROV_ERR_INVALID_DATA = 0x09,
};
#define PROV_ERR_NONE PROV_ERR_PROHIBITED

/* Start.Algorithm values (an enumeration, §5.4.1.3). */
enum prov_alg {
	PROV_ALG_CMAC = 0x00, /* BTM_ECDH_P256_CMAC_AES128_AES_CCM */
	PROV_ALG_HMAC = 0x01, /* BTM_ECDH_P256_HMAC_SHA256_AES_CCM (1.1) */
};

/* Capabilities.Algorithms bits (a bitfield, §5.4.1.2). */
#define PROV_ALGS_CMAC 0x0001
#define PROV_ALGS_HMAC 0x0002

/* Capabilities.Public Key Type and OOB Type bits. */
#define PROV_PUB_KEY_TYPE_OOB 0x01
#define PROV_OOB_TYPE_STATIC 0x01
#define PROV_OOB_TYPE_ONLY_OOB 0x02 /* 1.1: only OOB-authenticated provisioning */

/* Start.Public Key values. */
#define PROV_START_PUB_KEY_NO_OOB 0x00
#define PROV_START_PUB_KEY_OOB 0x01

/* Start.Authentication Method values. */
enum prov_auth_method {
	PROV_AUTH_NO_OOB = 0x00,
	PROV_AUTH_STATIC = 0x01,
	PROV_AUTH_OUTPUT = 0x02,
	PROV_AUTH_INPUT = 0x03,
};

/* Output OOB actions: Start.Authentication Action value = bit number in Capabilities. */
enum prov_output_action {
	PROV_OUT_BLINK = 0,
	PROV_OUT_BEEP = 1,
	PROV_OUT_VIBRATE = 2,
	PROV_OUT_NUMERIC = 3,
	PROV_OUT_ALPHA = 4,
};
#define PROV_OUT_ACTIONS 5

/* Input OOB actions, likewise. */
enum prov_input_action {
	PROV_IN_PUSH = 0,
	PROV_IN_TWIST = 1,
	PROV_IN_NUMERIC = 2,
	PROV_IN_ALPHA = 3,
};
#define PROV_IN_ACTIONS 4

#define PROV_OOB_SIZE_MAX 8 /* Output/Input OOB Size 0x01..0x08 */

#define PROV_PARAMS_INVITE 1
#define PROV_PARAMS_CAPS 11
#define PROV_PARAMS_START 5
#define PROV_PUB_KEY_LEN 64
#define PROV_DATA_LEN 25
#define PROV_DATA_MIC_LEN 8
#define PROV_VALUE_MAX 32 /* Confirmation / Random: 16 (CMAC) or 32 (HMAC) */
#define PROV_PDU_MAX 65   /* largest PDU a session sends: type + Public Key */

/* Record Response status (1.1). */
#define PROV_RECORD_SUCCESS 0x00
#define PROV_RECORD_NOT_PRESENT 0x01
#define PROV_RECORD_OFFSET_OOB 0x02

struct prov_caps {
	uint8_t elements;
	uint16_t algorithms; /* PROV_ALGS_* */
	uint8_t pub_key_type;
	uint8_t oob_type;
	uint8_t output_size;
	uint16_t output_actions; /* bit n = enum prov_output_action n */
	uint8_t input_size;
	uint16_t input_actions; /* bit n = enum prov_input_action n */
};

struct prov_start {
	uint8_t alg;         /* enum prov_alg */
	uint8_t pub_key;     /* PROV_START_PUB_KEY_* */
	uint8_t auth_method; /* enum prov_auth_method */
	uint8_t auth_action;
	uint8_t auth_size;
};

/* Provisioning Data plaintext (§5.4.2.5), 25 octets big-endian. */
struct prov_data {
	uint8_t net_key[16];
	uint16_t net_idx;
	uint8_t flags; /* bit 0 Key Refresh, bit 1 IV Update */
	uint32_t iv_index;
	uint16_t unicast;
};

struct prov_pdu {
	enum prov_pdu_type type;
	union {
		uint8_t attention; /* Invite: Attention Duration, seconds */
		struct prov_caps caps;
		struct prov_start start;
		uint8_t pub_key[PROV_PUB_KEY_LEN]; /* X || Y */
		struct {
			uint8_t v[PROV_VALUE_MAX];
			size_t len; /* 16 or 32 */
		} value;            /* Confirmation or Random */
		struct {
			uint8_t enc[PROV_DATA_LEN];
			uint8_t mic[PROV_DATA_MIC_LEN];
		} data;
		uint8_t err; /* Failed: enum prov_err, any octet as received */
		struct {
			uint16_t record_id;
			uint16_t offset;
			uint16_t max_size;
		} record_req;
		struct {
			uint8_t status;
			uint16_t record_id;
			uint16_t offset;
			uint16_t total_len;
			const uint8_t *data; /* borrowed from the parsed input */
			size_t data_len;
		} record_rsp;
		struct {
			uint16_t extensions;
			const uint8_t *ids; /* borrowed; n_ids big-endian 16-bit Record IDs */
			size_t n_ids;
		} records_list;
	} u;
};

/*
 * Parse one Provisioning PDU.  value_len is the negotiated Confirmation and
 * Random length (16 or 32), or 0 before Start when either is accepted.
 * Start is checked on its own merits only (prohibited/RFU values); whether
 * it matches the Capabilities a device sent is prov_start_check()'s job.
 * Returns 0 and fills *out, or -EBADMSG and sets *err (when err is not
 * NULL) to the Failed code the spec asks for: Invalid PDU for padding bits
 * or an RFU type, Invalid Format for a wrong length or a prohibited value.
 * -EINVAL for a bad argument.  *out is written only on success.
 */
int prov_pdu_parse(const uint8_t *pdu, size_t len, size_t value_len, struct prov_pdu *out,
		   enum prov_err *err);

/*
 * Encode a PDU into out (capacity cap); *len receives the octets written.
 * Returns 0, -ENOSPC when it does not fit, -EINVAL for an unknown type or a
 * Confirmation/Random length other than 16 or 32.
 */
int prov_pdu_build(const struct prov_pdu *pdu, uint8_t *out, size_t cap, size_t *len);

/*
 * Check a Start against the Capabilities the device sent (§5.4.1.3): the
 * algorithm offered, OOB public key offered, static OOB offered, action
 * bit offered, size within the offered maximum.  Returns 0 or -EBADMSG
 * (answer with Invalid Format).
 */
int prov_start_check(const struct prov_start *start, const struct prov_caps *caps);

/* Encode/decode the 25-octet Provisioning Data plaintext. */
void prov_data_encode(const struct prov_data *d, uint8_t out[PROV_DATA_LEN]);
void prov_data_decode(const uint8_t in[PROV_DATA_LEN], struct prov_data *d);

/* Confirmation/Random length of an algorithm: 16 or 32, 0 for an unknown one. */
size_t prov_alg_value_len(uint8_t alg);

/* Human-readable name of a Failed code, for logs above mesh/ ("Unknown" for RFU). */
const char *prov_err_str(uint8_t err);

#endif /* MESH_PROV_PDU_H */
