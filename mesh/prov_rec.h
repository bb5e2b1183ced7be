/*
 * Provisioning records (Mesh Protocol v1.1 §5.4.2.1 "Provisioning records";
 * formats.md §2): the pieces of certificate-based provisioning that do not
 * depend on the session.  Pure functions and one owned buffer, no I/O.
 *
 * Record IDs (formats.md §2.3): 0x0000 the Certificate-Based Provisioning
 * URI, 0x0001 the Device Certificate (X.509 DER), 0x0002 and up the
 * intermediate certificates, nearest to the device first.
 *
 * A record is read in fragments: Record Request (ID, Fragment Offset,
 * Fragment Maximum Size) answered by Record Response (Status, ID, Offset,
 * Total Length, Data).  Each Record Response costs PROV_REC_HDR_LEN octets
 * of header, so the fragment a provisioner asks for follows from the
 * largest Provisioning PDU its bearer carries:
 *   PB-ADV     PB_ADV_PDU_MAX (128) octets: PROV_REC_FRAG_ADV = 120 (pb_adv.h)
 *   PB-Remote  the queues of pb_remote.c and rpr_srv.c hold PROV_PDU_MAX
 *              (65) octets: PROV_REC_FRAG_REMOTE = 57
 * PROV_REC_FRAG_REMOTE fits both and is the session's default.
 */
#ifndef MESH_PROV_REC_H
#define MESH_PROV_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/prov_pdu.h"

#define PROV_REC_ID_URI 0x0000
#define PROV_REC_ID_DEV_CERT 0x0001
#define PROV_REC_ID_INTERMEDIATE 0x0002 /* the first; more follow upwards */

#define PROV_REC_HDR_LEN 8    /* type, status, record ID, offset, total length */
#define PROV_REC_PDU_MAX 128  /* largest Record Response a session sends or keeps */
#define PROV_REC_FRAG_ADV 120 /* PROV_REC_PDU_MAX - PROV_REC_HDR_LEN */
#define PROV_REC_FRAG_REMOTE (PROV_PDU_MAX - PROV_REC_HDR_LEN)
#define PROV_REC_MAX 8               /* records a provisioner reads in one session */
#define PROV_REC_LIMIT_DEFAULT 2048u /* octets per record unless configured */
#define PROV_REC_REASON_MAX 128      /* a failure reason, NUL included */

/* One record as a device serves it or a provisioner hands it to its verifier (borrowed). */
struct prov_record {
	uint16_t id;
	const uint8_t *data;
	size_t len; /* 1 .. 0xffff */
};

/*
 * Reassembly of one record on the provisioner.  Fragments must arrive in
 * order from offset 0 (the provisioner asks for them one at a time), all
 * with the same Total Length, none longer than requested, together exactly
 * Total Length octets.  buf is owned (allocated at the first fragment, at
 * most `limit` octets) and freed by prov_rec_asm_free().
 */
struct prov_rec_asm {
	uint16_t id;
	uint16_t frag_max; /* Fragment Maximum Size asked for */
	size_t limit;
	size_t total; /* 0 until the first fragment */
	size_t have;
	uint8_t *buf;
};

/* Start reading record `id`; frag_max 1..PROV_REC_FRAG_ADV, limit 1..0xffff.  -EINVAL. */
int prov_rec_asm_init(struct prov_rec_asm *a, uint16_t id, uint16_t frag_max, size_t limit);

/* Free the buffer and reset; accepts a zeroed struct. */
void prov_rec_asm_free(struct prov_rec_asm *a);

/* The Record Request for the next fragment. */
void prov_rec_asm_request(const struct prov_rec_asm *a, struct prov_pdu *req);

/*
 * Take one parsed Record Response.  Returns 1 when the record is complete
 * (a->buf holds a->total octets), 0 when another fragment is needed, or a
 * negative errno with a reason a technician can read in `why` (static
 * string):
 *   -ENOENT    status Requested Record Is Not Present
 *   -ERANGE    status Requested Offset Is Out Of Bounds
 *   -EMSGSIZE  Total Length above the limit
 *   -EBADMSG   wrong record ID or offset, Total Length 0 or changed since the
 *              first fragment, more data than asked for or than remains, an
 *              empty fragment before the end
 *   -ENOMEM
 * After an error the assembler must be freed.
 */
int prov_rec_asm_feed(struct prov_rec_asm *a, const struct prov_pdu *rsp, const char **why);

/*
 * Device: the Record Response to a Record Request, over the records it
 * holds.  Unknown ID: status Not Present, Total Length 0, no data.  Offset
 * at or past the end: status Offset Out Of Bounds, the real Total Length,
 * no data.  Otherwise up to min(max_size, PROV_REC_FRAG_ADV) octets; rsp's
 * data pointer borrows from the record.
 */
void prov_rec_serve(const struct prov_record *recs, size_t n, const struct prov_pdu *req,
		    struct prov_pdu *rsp);

/*
 * Device: the Records List (extensions 0) naming every record, IDs
 * big-endian into ids (cap octets, 2 per record).  -ENOSPC when they do not
 * fit.
 */
int prov_rec_list(const struct prov_record *recs, size_t n, uint8_t *ids, size_t cap,
		  struct prov_pdu *list);

/*
 * Provisioner: choose from a Records List the records to read, in reading
 * order: the device certificate, then intermediates by ascending ID (every
 * ID from 0x0002 up), then the URI.  Duplicates are read once.  Returns how many were
 * written to out (cap entries), or -E2BIG when more than cap are wanted.
 * *has_cert says whether 0x0001 is listed.
 */
int prov_rec_select(const struct prov_pdu *list, uint16_t *out, size_t cap, bool *has_cert);

#endif /* MESH_PROV_REC_H */
