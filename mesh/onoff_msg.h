/*
 * Generic OnOff message codec (Mesh Model v1.1 §3.2.1, Generic OnOff
 * messages; Generic Default Transition Time encoding §3.1.3).
 *
 * Like mesh/cfg_msg.h, the functions produce and read the message
 * PARAMETERS; the access layer adds the opcode.  Generic OnOff Get has no
 * parameters.  Set and Set Unacknowledged share one layout:
 *
 *   OnOff (1) ‖ TID (1) ‖ [Transition Time (1) ‖ Delay (1)]
 *
 * and Status is Present OnOff (1) ‖ [Target OnOff (1) ‖ Remaining Time (1)].
 * The optional pairs are all-or-nothing.
 *
 * encode: 0 and *len set; -EINVAL for a value the decoder would reject;
 * -ENOSPC when cap is too small.  decode: 0, or -EBADMSG for a wrong length
 * or a prohibited value (OnOff 0x02-0xff, a Set's Transition Time with the
 * "unknown" step count 0x3f); *out is written only on success.
 */
#ifndef MESH_ONOFF_MSG_H
#define MESH_ONOFF_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ONOFF_OP_GET 0x8201
#define ONOFF_OP_SET 0x8202
#define ONOFF_OP_SET_UNACK 0x8203
#define ONOFF_OP_STATUS 0x8204

/*
 * Transition Time octet: Number of Steps in bits 5-0, Step Resolution in
 * bits 7-6 (0: 100 ms, 1: 1 s, 2: 10 s, 3: 10 min).  Steps 0x3f means
 * "unknown" and may only appear in a Status's Remaining Time.
 */
#define ONOFF_TT_STEPS_UNKNOWN 0x3f
#define ONOFF_TT_UNKNOWN_MS UINT32_MAX

/* Set and Set Unacknowledged. */
struct onoff_set {
	uint8_t onoff; /* 0 or 1 */
	uint8_t tid;
	bool has_transition;
	uint8_t transition; /* Transition Time octet */
	uint8_t delay;      /* 5 ms steps */
};

struct onoff_status {
	uint8_t present; /* 0 or 1 */
	bool has_target;
	uint8_t target;    /* 0 or 1 */
	uint8_t remaining; /* Remaining Time octet; steps may be 0x3f (unknown) */
};

int onoff_msg_set_encode(const struct onoff_set *m, uint8_t *out, size_t cap, size_t *len);
int onoff_msg_set_decode(const uint8_t *params, size_t len, struct onoff_set *out);
int onoff_msg_status_encode(const struct onoff_status *m, uint8_t *out, size_t cap, size_t *len);
int onoff_msg_status_decode(const uint8_t *params, size_t len, struct onoff_status *out);

/* A Transition Time octet in milliseconds; ONOFF_TT_UNKNOWN_MS for 0x3f steps. */
uint32_t onoff_tt_ms(uint8_t tt);

#endif /* MESH_ONOFF_MSG_H */
