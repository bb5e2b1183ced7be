/*
 * Table-driven codec for access message parameters, shared by the Config
 * (mesh/cfg_msg.c) and Remote Provisioning (mesh/rpr_msg.c) codecs.
 *
 * A codec is a table with one row per opcode (struct msgc_row): the
 * caller's family tag (which C struct the message decodes into), the
 * lengths the parameters may have, and a layout: the fields in the order
 * they travel (struct msgc_field).  A field says where its value lives in
 * the family struct (offsetof), how it is carried (one octet, 16 or 24 bits
 * little-endian, a packed pair of 12-bit key indexes, a fixed octet string,
 * a list, the rest of the message) and which values it may hold.
 *
 * One walk decodes, one encodes, and one check, used by both, says whether
 * a struct holds only values that may go on the air.  So whatever encodes
 * also decodes, and a decoded message re-encodes to the same octets (the
 * fuzz targets assert this).  RFU bits are rejected rather than ignored for
 * the same reason: a struct has no room to carry them back out.
 *
 * Optional fields: a field whose presence the octets decide (a trailing
 * UUID, the 2- or 4-octet Model Identifier) records it in a bool of the
 * struct; the encoder writes the field when that bool is set, and later
 * fields may depend on the same bool.  Presence is never guessed: it is
 * "octets remain" or "exactly n octets remain".  Fields of the struct that
 * the opcode's layout does not carry are neither encoded nor checked; a
 * decoder leaves them zero.
 *
 * A layout is written with the MSGC_* initializer macros, one brace pair
 * per field, e.g. the Key Refresh Phase Set parameters:
 *
 *   static const struct msgc_field krp_set[] = {
 *           {MSGC_KEY_IDX(struct cfg_net_idx, net_idx)},
 *           {MSGC_U8(struct cfg_net_idx, state), MSGC_IN(0x02, 0x03)},
 *   };
 *
 * The macros check at compile time that the member has the width the field
 * kind reads and writes.
 */
#ifndef MESH_MSG_CODEC_H
#define MESH_MSG_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/mesh.h"

enum msgc_kind {
	MSGC_K_U8,       /* one octet (uint8_t or int8_t) */
	MSGC_K_LE16,     /* uint16_t, little-endian (§4.3.1) */
	MSGC_K_LE24,     /* 3 octets little-endian into a uint32_t */
	MSGC_K_BOOL8,    /* one octet 0x00/0x01 into a bool; 0x02-0xff prohibited */
	MSGC_K_IS,       /* no octets: a bool the opcode fixes (lo = its value) */
	MSGC_K_BYTES,    /* a fixed octet array (keys, UUIDs, Label UUIDs) */
	MSGC_K_IDX_PAIR, /* two 12-bit key indexes packed in 3 octets (§4.3.1) */
	MSGC_K_IDX_FLAG, /* 12-bit key index ‖ flag (bit 12) ‖ RFU (bits 13-15), 2 octets */
	MSGC_K_COUNTED,  /* a count octet, then that many octets into an array */
	MSGC_K_LIST16,   /* 16-bit items to the end of the message */
	MSGC_K_IDX_LIST, /* packed key indexes to the end, an odd last one in 2 octets */
	MSGC_K_REST,     /* the rest of the message, borrowed from the input */
};

/* When a field is on the air. */
enum msgc_when {
	MSGC_WHEN_ALWAYS = 0,
	MSGC_WHEN_LEFT,  /* decode: iff `left` octets remain (0: any); sets the bool at `flag` */
	MSGC_WHEN_SET,   /* iff the bool at `flag` is set */
	MSGC_WHEN_CLEAR, /* iff the bool at `flag` is clear */
};

/* Address classes a 16-bit field may be restricted to (§3.4.2). */
enum msgc_addr {
	MSGC_ADDR_ANY = 0,
	MSGC_ADDR_UNICAST,
	MSGC_ADDR_NOT_VIRTUAL,
};

struct msgc_field {
	uint8_t kind;  /* enum msgc_kind */
	uint8_t when;  /* enum msgc_when */
	uint8_t left;  /* MSGC_WHEN_LEFT */
	uint8_t addr;  /* enum msgc_addr */
	bool bounded;  /* value (or count, or length) must be in lo..hi */
	bool has_also; /* `also` is allowed besides lo..hi and the address class */
	uint16_t off;  /* the value, array or pointer in the family struct */
	uint16_t off2; /* second index, flag, count or length */
	uint16_t flag; /* the presence bool (when != ALWAYS) */
	uint16_t size; /* BYTES: octets; COUNTED, LIST16, IDX_LIST: capacity in items */
	uint32_t lo, hi, also;
};

/* offsetof(T, m), refusing to compile unless the member is n octets wide. */
#define MSGC_OFF(T, m, n) (offsetof(T, m) + 0 * sizeof(char[sizeof(((T *)0)->m) == (n) ? 1 : -1]))
#define MSGC_CAP(T, m) (sizeof(((T *)0)->m) / sizeof(((T *)0)->m[0]))

/* Field kinds: the member of struct T that holds the value. */
#define MSGC_U8(T, m) .kind = MSGC_K_U8, .off = MSGC_OFF(T, m, 1)
#define MSGC_LE16(T, m) .kind = MSGC_K_LE16, .off = MSGC_OFF(T, m, 2)
#define MSGC_LE24(T, m) .kind = MSGC_K_LE24, .off = MSGC_OFF(T, m, 4)
#define MSGC_BOOL8(T, m) .kind = MSGC_K_BOOL8, .off = MSGC_OFF(T, m, sizeof(bool))
#define MSGC_IS(T, m, v) .kind = MSGC_K_IS, .off = MSGC_OFF(T, m, sizeof(bool)), .lo = (v)
#define MSGC_BYTES(T, m)                                                                           \
	.kind = MSGC_K_BYTES, .off = MSGC_OFF(T, m[0], 1), .size = sizeof(((T *)0)->m)
/* A single key index: 2 octets, the upper 4 bits RFU (§4.3.1). */
#define MSGC_KEY_IDX(T, m) MSGC_LE16(T, m), .bounded = true, .hi = MESH_KEY_IDX_MAX
#define MSGC_IDX_PAIR(T, a, b)                                                                     \
	.kind = MSGC_K_IDX_PAIR, .off = MSGC_OFF(T, a, 2), .off2 = MSGC_OFF(T, b, 2)
#define MSGC_IDX_FLAG(T, idx, f)                                                                   \
	.kind = MSGC_K_IDX_FLAG, .off = MSGC_OFF(T, idx, 2), .off2 = MSGC_OFF(T, f, sizeof(bool))
#define MSGC_COUNTED(T, arr, n)                                                                    \
	.kind = MSGC_K_COUNTED, .off = MSGC_OFF(T, arr[0], 1), .off2 = MSGC_OFF(T, n, 1),          \
	.size = MSGC_CAP(T, arr)
#define MSGC_LIST16(T, items, n)                                                                   \
	.kind = MSGC_K_LIST16, .off = MSGC_OFF(T, items[0], 2),                                    \
	.off2 = MSGC_OFF(T, n, sizeof(size_t)), .size = MSGC_CAP(T, items)
#define MSGC_IDX_LIST(T, items, n)                                                                 \
	.kind = MSGC_K_IDX_LIST, .off = MSGC_OFF(T, items[0], 2),                                  \
	.off2 = MSGC_OFF(T, n, sizeof(size_t)), .size = MSGC_CAP(T, items)
#define MSGC_REST(T, p, n)                                                                         \
	.kind = MSGC_K_REST, .off = MSGC_OFF(T, p, sizeof(const uint8_t *)),                       \
	.off2 = MSGC_OFF(T, n, sizeof(size_t))

/* One field in a macro that expands to several (a bare {...} there upsets clang-format). */
#define MSGC_FIELD(...)                                                                            \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}

/* Allowed values (of the count for COUNTED, of the length for REST); combine freely. */
#define MSGC_IN(l, h) .bounded = true, .lo = (l), .hi = (h)
#define MSGC_AT_LEAST(l) MSGC_IN(l, UINT32_MAX)
#define MSGC_OR(v) .has_also = true, .also = (v)
#define MSGC_UNICAST .addr = MSGC_ADDR_UNICAST
#define MSGC_NOT_VIRTUAL .addr = MSGC_ADDR_NOT_VIRTUAL

/* Presence, recorded in (or read from) the bool member f of struct T. */
#define MSGC_OPT(T, f) .when = MSGC_WHEN_LEFT, .flag = MSGC_OFF(T, f, sizeof(bool))
#define MSGC_OPT_LEFT(T, f, n) MSGC_OPT(T, f), .left = (n)
#define MSGC_IF(T, f) .when = MSGC_WHEN_SET, .flag = MSGC_OFF(T, f, sizeof(bool))
#define MSGC_UNLESS(T, f) .when = MSGC_WHEN_CLEAR, .flag = MSGC_OFF(T, f, sizeof(bool))

/* Parameter length that only the access payload bounds. */
#define MSGC_LEN_ANY UINT16_MAX

struct msgc_row {
	uint32_t op;
	int fam; /* the caller's family tag, > 0 */
	uint16_t min_len, max_len;
	const struct msgc_field *fields; /* borrowed, static */
	size_t n_fields;
	/* Rules across fields that a layout cannot say; NULL when none.  Gets the family struct. */
	bool (*check)(const void *m);
};

#define MSGC_ROW_CHECK(op, fam, min, max, layout, check)                                           \
	{                                                                                          \
		(op), (fam), (min), (max), (layout), sizeof(layout) / sizeof((layout)[0]), (check) \
	}
#define MSGC_ROW(op, fam, min, max, layout) MSGC_ROW_CHECK(op, fam, min, max, layout, NULL)
#define MSGC_ROW_EMPTY(op, fam)                                                                    \
	{                                                                                          \
		(op), (fam), 0, 0, NULL, 0, NULL                                                   \
	}

/*
 * A codec: its rows, and where the family union sits in its tagged message
 * struct, which is { uint32_t op; union { family structs }; }.
 */
struct msgc_table {
	const struct msgc_row *rows;
	size_t n_rows;
	size_t body_off;
};

/*
 * The table of rows for the tagged message type M whose union starts with
 * member `first`; refuses to compile unless op leads M and the union fits
 * the decoder's working copy.
 */
#define MSGC_TABLE(rows, M, first)                                                                 \
	{                                                                                          \
		(rows), sizeof(rows) / sizeof((rows)[0]), MSGC_BODY_OFF(M, first)                  \
	}
#define MSGC_BODY_OFF(M, first)                                                                    \
	(offsetof(M, first) + 0 * sizeof(char[MSGC_BODY_OK(M, first) ? 1 : -1]))
#define MSGC_BODY_OK(M, first)                                                                     \
	(offsetof(M, op) == 0 && sizeof(M) - offsetof(M, first) <= MSGC_BODY_MAX)

/* Largest family struct msgc_decode() can hold while it decodes. */
#define MSGC_BODY_MAX 1024
/* fam argument: any family (unknown opcode → -ENOENT instead of -EINVAL). */
#define MSGC_FAM_ANY (-1)

/* The row of op, or NULL. */
const struct msgc_row *msgc_find(const struct msgc_table *t, uint32_t op);
/* The family of op, or 0 when the table has no row for it. */
int msgc_family(const struct msgc_table *t, uint32_t op);

/*
 * Decode the parameters of op into the family struct `out` of `size`
 * octets.  Returns 0; -ENOENT (fam MSGC_FAM_ANY, op has no row); -EINVAL
 * (op not of family fam, bad arguments); -EMSGSIZE (more parameters than
 * one access payload leaves after the opcode); -EBADMSG (wrong length,
 * prohibited or RFU value).  *out is written only on success.  The working
 * copy is wiped (Config messages carry keys); wiping *out is the caller's.
 */
int msgc_decode(const struct msgc_table *t, uint32_t op, int fam, const uint8_t *params, size_t len,
		void *out, size_t size);

/*
 * Encode the family struct m as the parameters of op.  Returns 0 and *len;
 * -ENOENT, -EINVAL (as above, or a field the decoder would reject, or
 * parameters past one access payload), -ENOSPC (cap too small).
 */
int msgc_encode(const struct msgc_table *t, uint32_t op, int fam, const void *m, uint8_t *out,
		size_t cap, size_t *len);

/* The same for a whole tagged message of msg_size octets (op first, then the family union). */
int msgc_msg_decode(const struct msgc_table *t, uint32_t op, const uint8_t *params, size_t len,
		    void *msg, size_t msg_size);
int msgc_msg_encode(const struct msgc_table *t, const void *msg, uint8_t *out, size_t cap,
		    size_t *len);

/*
 * The entry points mesh/cfg_msg.h and mesh/rpr_msg.h declare, over a
 * table: pfx_msg_family(), pfx_msg_decode() and pfx_msg_encode() for the
 * tagged struct pfx_msg, and per family pfx_msg_NAME_encode/_decode over
 * struct pfx_NAME.
 */
#define MSGC_MSG_DEF(pfx, table)                                                                   \
	enum pfx##_family pfx##_msg_family(uint32_t op)                                            \
	{                                                                                          \
		return (enum pfx##_family)msgc_family(table, op);                                  \
	}                                                                                          \
                                                                                                   \
	int pfx##_msg_decode(uint32_t op, const uint8_t *params, size_t len,                       \
			     struct pfx##_msg *out)                                                \
	{                                                                                          \
		return msgc_msg_decode(table, op, params, len, out, sizeof(*out));                 \
	}                                                                                          \
                                                                                                   \
	int pfx##_msg_encode(const struct pfx##_msg *m, uint8_t *out, size_t cap, size_t *len)     \
	{                                                                                          \
		return msgc_msg_encode(table, m, out, cap, len);                                   \
	}

#define MSGC_FAMILY_DEF(pfx, name, fam, table)                                                     \
	int pfx##_msg_##name##_encode(uint32_t op, const struct pfx##_##name *m, uint8_t *out,     \
				      size_t cap, size_t *len)                                     \
	{                                                                                          \
		return msgc_encode(table, op, fam, m, out, cap, len);                              \
	}                                                                                          \
                                                                                                   \
	int pfx##_msg_##name##_decode(uint32_t op, const uint8_t *params, size_t len,              \
				      struct pfx##_##name *out)                                    \
	{                                                                                          \
		return msgc_decode(table, op, fam, params, len, out, sizeof(*out));                \
	}

/* The packed pair of 12-bit key indexes (§4.3.1): 0x456, 0x123 → 56 34 12. */
void msgc_idx_pack(uint16_t idx1, uint16_t idx2, uint8_t out[3]);
void msgc_idx_unpack(const uint8_t in[3], uint16_t *idx1, uint16_t *idx2);

#endif /* MESH_MSG_CODEC_H */
