/*
 * Provisioning protocol sessions (Mesh Protocol v1.1 §5.4), bearer-agnostic.
 *
 * One struct prov_sess is one provisioning run, in the provisioner or the
 * device role; any number may run at once (no globals).  A session consumes
 * complete Provisioning PDUs (type octet + parameters) through prov_rx() and
 * emits complete PDUs through ops.send; PB-ADV, PB-GATT or PB-Remote move
 * them and are responsible for loss and reordering.  Time comes in as
 * now_ms; the 60 s protocol timeout (§5.4.4) restarts on every received PDU
 * and is driven by prov_next_deadline()/prov_tick().
 *
 * Flow (provisioner side; the device mirrors it):
 *   prov_start -> Invite; <- Capabilities; -> Start, Public Key;
 *   <- Public Key (unless the device's key is known out of band);
 *   [Output OOB: ops.input_oob_request, then prov_input_oob()]
 *   [Input OOB: ops.output_oob shows the value, <- Input Complete]
 *   -> Confirmation; <- Confirmation; -> Random; <- Random;
 *   [ops.data_ready: commit address and DevKey] -> Data; <- Complete; ops.done.
 *
 * Errors: API calls return 0 or a negative errno.  A session that fails
 * calls ops.failed(ctx, err, prov_err) exactly once and then ignores all
 * input (-EALREADY).  prov_err is the Provisioning Failed code (enum
 * prov_err) the device sent or received; on the provisioner, which never
 * sends Failed (§5.4.4), it is the code that describes the failure, or
 * PROV_ERR_NONE (0x00) when none applies (local policy, timeout, send
 * failure).  The errno values:
 *   -EBADMSG     malformed PDU (Invalid PDU / Invalid Format) or invalid
 *                Provisioning Data contents (Invalid Data)
 *   -EPROTO      PDU out of order (Unexpected PDU)
 *   -EACCES      confirmation mismatch (Confirmation Failed), Data MIC
 *                failure (Decryption Failed)
 *   -EINVAL      invalid or reflected public key, reflected confirmation or
 *                random (Unexpected Error / Confirmation Failed)
 *   -ECONNABORTED the peer sent Provisioning Failed (prov_err = its code)
 *   -ENOTSUP     provisioner: the device offers nothing the policy allows
 *   -ENOSPC      provisioner: no address range for the device's elements
 *                (Cannot Assign Addresses)
 *   -ETIMEDOUT   no PDU for 60 s
 *   (any)        provisioner: what ops.data_ready returned, when not 0
 * A PDU identical to the previous one received is a bearer repeat and is
 * ignored (returns 0).
 *
 * Every secret (private key, ECDH secret, AuthValue, session key and nonce,
 * randoms, DevKey, NetKey) is wiped when the session finishes, successfully
 * or not, and again by prov_free().  The result is handed out once, through
 * ops.done, and wiped after that callback returns.
 *
 * Out-of-band values (§5.4.2.4): the side that shows a value draws it from
 * the injected rng by rejection sampling (no modulo bias): a number in
 * 0 .. 10^size - 1 for the numeric actions, a count in 1 .. 10^size - 1 for
 * blink, beep, vibrate, push and twist, size characters from 0-9A-Z for the
 * alphanumeric actions.  A number goes into the AuthValue big-endian in its
 * last octets, a string as ASCII from the first octet, zero padded.  The
 * AuthValue is 16 octets with the CMAC algorithm, 32 with HMAC.
 *
 * Certificate-based provisioning (Mesh Protocol v1.1 §5.4.2.1; prov_rec.h).
 * A provisioner with cfg.cert_policy PREFER or REQUIRE starts with a record
 * phase instead of Invite:
 *   -> Records Get; <- Records List;
 *   for the device certificate, each intermediate, then the URI:
 *     -> Record Request; <- Record Response (one per fragment)
 *   ops.verify_records(chain) -> accept + the certificate's P-256 key
 *   -> Invite ... Start with Public Key = OOB, the certificate's key.
 * The device then proves it holds that key's private half: ECDH with any
 * other key makes the Confirmation check fail.  A device configured with
 * cfg.records answers Records Get and Record Request while it waits for
 * Invite; one without records treats them as Unexpected PDU.  Records Get
 * is new to 1.0 devices, which fail the link on it, so PREFER is for a
 * device whose beacon advertises records (OOB Information bits 7/8).
 * Record-phase errors (provisioner; prov_reason() says which in words):
 *   -ENOENT      REQUIRE, and the device lists no device certificate, or a
 *                listed record is Not Present
 *   -ERANGE      the device refused an offset within its record
 *   -EMSGSIZE    a record is larger than cfg.rec_limit
 *   -E2BIG       more records listed than PROV_REC_MAX
 *   -EBADMSG     a malformed fragment sequence (prov_rec_asm_feed())
 *   -ENOTSUP     REQUIRE, and the Capabilities offer no OOB public key
 *   -ECONNABORTED the device answered Records Get with Provisioning Failed
 *                ("device does not support certificate-based provisioning")
 *   (any)        what ops.verify_records returned (its reason is kept)
 *
 * Re-entrancy: callbacks run inside prov_start/prov_rx/prov_input_oob/
 * prov_tick.  Never free the session from inside its own callback chain
 * (close, then free from the caller's own context), and do not deliver a PDU
 * back into a session from inside its ops.send (queue it instead).
 */
#ifndef MESH_PROV_H
#define MESH_PROV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/mesh.h"
#include "mesh/prov_pdu.h"
#include "mesh/prov_rec.h"

#define PROV_TIMEOUT_MS 60000u

enum prov_role {
	PROV_ROLE_PROVISIONER,
	PROV_ROLE_DEVICE,
};

/* Policy flags (both roles). */
#define PROV_POLICY_NO_CMAC 0x01u   /* refuse BTM_ECDH_P256_CMAC_AES128_AES_CCM */
#define PROV_POLICY_NO_NO_OOB 0x02u /* refuse the No OOB authentication method */
#define PROV_POLICY_NO_HMAC 0x04u   /* refuse BTM_ECDH_P256_HMAC_SHA256_AES_CCM (use CMAC) */

/* prov_cfg.auth_method: let the provisioner choose from the Capabilities. */
#define PROV_AUTH_AUTO 0xffu

/* prov_cfg.cert_policy (provisioner). */
enum prov_cert_policy {
	PROV_CERT_NEVER,   /* no record phase (1.0 behaviour) */
	PROV_CERT_PREFER,  /* use a certificate when the device lists one */
	PROV_CERT_REQUIRE, /* fail unless a verified certificate supplies the key */
};

enum prov_phase {
	PROV_PHASE_IDLE,   /* created, prov_start not called */
	PROV_PHASE_ACTIVE, /* running */
	PROV_PHASE_DONE,   /* ops.done was called */
	PROV_PHASE_FAILED, /* ops.failed was called */
};

struct prov_cfg {
	enum prov_role role;
	unsigned int policy; /* PROV_POLICY_* */

	/*
	 * A fixed P-256 key pair (the device's OOB public key; tests inject
	 * the spec's sample keys).  Otherwise a fresh pair is generated.
	 */
	bool has_priv_key;
	uint8_t priv_key[32];

	/*
	 * Static OOB AuthValue: 16 or 32 octets, 0 = none.  With the CMAC
	 * algorithm only the first 16 octets are used; with the HMAC
	 * algorithm a 16-octet value is zero-padded at the end to 32 octets
	 * (as Zephyr does; §5.4.2.4).
	 */
	uint8_t static_oob[32];
	uint8_t static_oob_len;

	/* Device role: the Capabilities to advertise. */
	struct prov_caps caps;

	/* Provisioner role. */
	uint8_t attention;       /* Invite Attention Duration, seconds */
	bool has_dev_pub_key;    /* the device's public key, obtained out of band */
	uint8_t dev_pub_key[64]; /* a device that does not offer an OOB public key is refused */
	uint8_t auth_method;     /* enum prov_auth_method or PROV_AUTH_AUTO */
	uint8_t auth_action;     /* when auth_method is explicit */
	uint8_t auth_size;       /* when auth_method is explicit (Output/Input) */
	struct prov_data data;   /* Provisioning Data to send (unicast: see assign_addr) */
	uint8_t cert_policy;     /* enum prov_cert_policy; not NEVER needs ops.verify_records */
	uint16_t rec_frag_max;   /* Fragment Maximum Size, 0 = PROV_REC_FRAG_REMOTE */
	/*
	 * Largest record accepted, 0 = PROV_REC_LIMIT_DEFAULT.  A session holds
	 * at most PROV_REC_MAX records of this size on the heap until they are
	 * verified.
	 */
	uint16_t rec_limit;

	/*
	 * Device role: the provisioning records served (borrowed: they must
	 * outlive the session), IDs distinct, each 1..0xffff octets, at most
	 * PROV_REC_MAX.  None: the record PDUs are Unexpected PDU.
	 */
	const struct prov_record *records;
	size_t n_records;
};

struct prov_result {
	uint8_t dev_key[16];
	struct prov_data data; /* NetKey, key index, flags, IV Index, unicast address */
	uint8_t elements;
	struct prov_caps caps;   /* the device's Capabilities */
	struct prov_start start; /* what was negotiated */
	bool cert_verified;      /* provisioner: the device key came from a verified certificate */
};

struct prov_ops {
	void *ctx;
	/* Send one complete Provisioning PDU (borrowed for the call). Required. */
	int (*send)(void *ctx, const uint8_t *pdu, size_t len);
	/*
	 * Show a value.  Device with Output OOB: blink/beep/vibrate `value`
	 * times or display it (action = enum prov_output_action).
	 * Provisioner with Input OOB: show the value the user must enter on
	 * the device (action = enum prov_input_action).  value is a decimal
	 * number or an alphanumeric string, NUL-terminated, borrowed.
	 */
	void (*output_oob)(void *ctx, uint8_t action, const char *value);
	/*
	 * Ask for a value to be supplied later with prov_input_oob().
	 * Provisioner with Output OOB: what the device shows (action = enum
	 * prov_output_action).  Device with Input OOB: what the user enters
	 * (action = enum prov_input_action).  size is the Authentication Size.
	 */
	void (*input_oob_request)(void *ctx, uint8_t action, uint8_t size);
	/*
	 * Provisioner, optional: choose the primary address for a device
	 * with caps->elements elements; return 0 and set *unicast, or
	 * -ENOSPC (the session fails with Cannot Assign Addresses).  Without
	 * it cfg.data.unicast is used and must leave room for every element.
	 */
	int (*assign_addr)(void *ctx, const struct prov_caps *caps, uint16_t *unicast);
	/*
	 * Provisioner, optional: the write-ahead point.  Called once, after
	 * the device's Random has checked out and the DevKey is derived, and
	 * before the Provisioning Data PDU goes to ops.send: the device acts
	 * on that PDU (it becomes a node with this DevKey at data->unicast .. +
	 * elements - 1), so an owner that must not lose track of a node
	 * commits both here.  data (NetKey, key index, flags, IV Index,
	 * unicast) and dev_key are borrowed for the call; they equal what
	 * ops.done reports later.  Return 0 to send the PDU.  Any other value
	 * (a negative errno, e.g. the store's -EIO) fails the session as a
	 * local failure: no Data PDU is sent and ops.failed gets that value
	 * unchanged with prov_err PROV_ERR_NONE; prov_rx returns it too.  A 0
	 * return does not mean the device will be provisioned: the PDU may be
	 * lost or the session may fail later, so what was committed stays a
	 * candidate until ops.done.  Runs inside prov_rx; not called in the
	 * device role.
	 */
	int (*data_ready)(void *ctx, const struct prov_data *data, const uint8_t dev_key[16],
			  uint8_t elements);
	/*
	 * Provisioner with cert_policy PREFER/REQUIRE: judge the records read,
	 * recs[0] the device certificate (0x0001), then the intermediates by
	 * ascending ID, then the URI (0x0000) when listed; all borrowed for the
	 * call.  Return 0 and write the device's P-256 public key (X || Y) to
	 * pub_key to accept, or a negative errno and a NUL-terminated reason in
	 * reason (reason_len octets) to refuse: the session fails with that
	 * errno and prov_reason() returns the text.  Runs inside prov_rx.
	 */
	int (*verify_records)(void *ctx, const struct prov_record *recs, size_t n,
			      uint8_t pub_key[64], char *reason, size_t reason_len);
	/* Success; res is borrowed for the call and wiped afterwards. */
	void (*done)(void *ctx, const struct prov_result *res);
	/* Failure; see the errno table above. */
	void (*failed)(void *ctx, int err, uint8_t prov_err);
};

struct prov_sess;

/*
 * Create a session.  cfg and ops are copied (the caller should wipe its
 * copy of any key in cfg); rng may be NULL for the CSPRNG and is copied.
 * Returns 0 and a new session in *out (free with prov_free()), -EINVAL for
 * an inconsistent config (missing send, static OOB advertised without a
 * value, OOB public key advertised without a key pair, invalid OOB public
 * key), -ENOMEM.
 */
int prov_new(const struct prov_cfg *cfg, const struct prov_ops *ops, const struct mesh_rng *rng,
	     struct prov_sess **out);

/* Wipe and free; accepts NULL.  Not from inside the session's callbacks. */
void prov_free(struct prov_sess *s);

/*
 * Begin: the provisioner sends Invite, the device starts waiting for one.
 * Starts the protocol timer.  -EALREADY when already started.
 */
int prov_start(struct prov_sess *s, uint64_t now_ms);

/* One received Provisioning PDU (borrowed).  See the errno table above. */
int prov_rx(struct prov_sess *s, const uint8_t *pdu, size_t len, uint64_t now_ms);

/*
 * Supply the value requested by ops.input_oob_request: a decimal number
 * (numeric and counting actions; counts start at 1) of at most size digits,
 * or at most size characters from 0-9 and A-Z (lower case is accepted and
 * upper-cased) for the alphanumeric actions.  -EINVAL for a malformed value
 * (the session is unchanged and waits for another), -EALREADY when no value
 * is awaited.
 */
int prov_input_oob(struct prov_sess *s, const char *value);

/* When prov_tick must be called next; UINT64_MAX when the session is idle or finished. */
uint64_t prov_next_deadline(const struct prov_sess *s);

/* Fail the session with -ETIMEDOUT when its deadline has passed. */
void prov_tick(struct prov_sess *s, uint64_t now_ms);

enum prov_phase prov_phase(const struct prov_sess *s);

/*
 * Why a provisioner's record phase or certificate check failed, in words
 * for a technician ("certificate expired 2026-03-01"); "" when the session
 * has not failed there.  Borrowed; valid until prov_free().
 */
const char *prov_reason(const struct prov_sess *s);

#endif /* MESH_PROV_H */
