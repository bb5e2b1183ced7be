/*
 * libFuzzer target: the record phase of certificate-based provisioning
 * (mesh/prov_rec.c and its use in mesh/prov.c).  The input plays the device
 * to a provisioner that requires a certificate, and the provisioner to a
 * device that serves records.
 *
 * Input: cfg(1) ‖ commands.  cfg bit 0: fragments of PROV_REC_FRAG_ADV
 * instead of PROV_REC_FRAG_REMOTE; bit 1: the verifier refuses; bits 2-7:
 * the record limit in units of 32 octets (0 = the default).  Commands:
 * len(1) ‖ PDU(len), given to both sessions.
 *
 * Aborts when: the provisioner sends a Record Request outside the record it
 * is reading, hands its verifier more records than PROV_REC_MAX, a record
 * of 0 octets or over the limit, or not the device certificate first; the
 * device sends a Record Response that does not parse, or carries more than
 * was asked or than its record holds.
 * Seeds in corpus/prov_rec: Records List then a one- and a two-fragment
 * record.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/crypto.h"
#include "mesh/prov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* §8.7 sample device private key: a valid key for the verifier to return. */
static const uint8_t dev_priv[32] = {
    0x52, 0x9a, 0xa0, 0x67, 0x0d, 0x72, 0xcd, 0x64, 0x97, 0x50, 0x2e, 0xd4, 0x73, 0x50, 0x2b, 0x03,
    0x7e, 0x88, 0x03, 0xb5, 0xc6, 0x08, 0x29, 0xa5, 0xa3, 0xca, 0xa2, 0x19, 0x50, 0x55, 0x30, 0xba};

static uint8_t rec_a[300];
static uint8_t rec_b[40];

struct fz {
	size_t limit;
	uint16_t frag;
	bool refuse;
	uint8_t dev_pub[64];
	struct prov_pdu last_req; /* the provisioner's last Record Request */
	bool have_req;
	struct prov_pdu dev_req; /* what the device is answering */
};

static int prov_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct fz *f = ctx;
	struct prov_pdu p;

	if (prov_pdu_parse(pdu, len, 0, &p, NULL)) {
		abort();
	}
	if (p.type == PROV_RECORD_REQUEST) {
		if (p.u.record_req.offset >= f->limit || p.u.record_req.max_size != f->frag) {
			abort();
		}
		f->last_req = p;
		f->have_req = true;
	}
	return 0;
}

static int dev_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct fz *f = ctx;
	struct prov_pdu p;

	if (prov_pdu_parse(pdu, len, 0, &p, NULL)) {
		abort();
	}
	if (p.type == PROV_RECORD_RESPONSE && p.u.record_rsp.data_len) {
		size_t end = (size_t)p.u.record_rsp.offset + p.u.record_rsp.data_len;

		if (p.u.record_rsp.data_len > f->dev_req.u.record_req.max_size ||
		    p.u.record_rsp.data_len > PROV_REC_FRAG_ADV || end > p.u.record_rsp.total_len) {
			abort();
		}
	}
	return 0;
}

static int verify(void *ctx, const struct prov_record *recs, size_t n, uint8_t pub_key[64],
		  char *reason, size_t reason_len)
{
	struct fz *f = ctx;

	if (n == 0 || n > PROV_REC_MAX || recs[0].id != PROV_REC_ID_DEV_CERT) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		if (recs[i].len == 0 || recs[i].len > f->limit || !recs[i].data) {
			abort();
		}
	}
	if (f->refuse) {
		strncpy(reason, "refused", reason_len - 1);
		return -EKEYREJECTED;
	}
	memcpy(pub_key, f->dev_pub, 64);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prov_record recs[3] = {
	    {PROV_REC_ID_DEV_CERT, rec_a, sizeof(rec_a)},
	    {PROV_REC_ID_INTERMEDIATE, rec_b, sizeof(rec_b)},
	    {PROV_REC_ID_URI, rec_b, 7},
	};
	struct prov_cfg pc, dc;
	struct prov_ops pops = {.send = prov_send, .verify_records = verify};
	struct prov_ops dops = {.send = dev_send};
	struct prov_sess *ps = NULL, *ds = NULL;
	struct fz f;
	uint64_t now = 1000;
	size_t i = 1;

	if (size < 1) {
		return 0;
	}
	memset(&f, 0, sizeof(f));
	f.frag = (data[0] & 1) ? PROV_REC_FRAG_ADV : PROV_REC_FRAG_REMOTE;
	f.refuse = data[0] & 2;
	f.limit = (data[0] >> 2) ? (size_t)(data[0] >> 2) * 32 : PROV_REC_LIMIT_DEFAULT;
	static uint8_t dev_pub[64];
	static bool have_pub;

	if (!have_pub && mesh_crypto_p256_pub_from_priv(dev_priv, dev_pub)) {
		abort();
	}
	have_pub = true;
	memcpy(f.dev_pub, dev_pub, 64);
	memset(&pc, 0, sizeof(pc));
	pc.role = PROV_ROLE_PROVISIONER;
	pc.auth_method = PROV_AUTH_AUTO;
	pc.data.unicast = 0x0100;
	pc.cert_policy = PROV_CERT_REQUIRE;
	pc.rec_frag_max = f.frag;
	pc.rec_limit = (uint16_t)f.limit;
	memset(&dc, 0, sizeof(dc));
	dc.role = PROV_ROLE_DEVICE;
	dc.caps.elements = 1;
	dc.caps.algorithms = PROV_ALGS_CMAC;
	dc.records = recs;
	dc.n_records = 3;
	pops.ctx = &f;
	dops.ctx = &f;
	if (prov_new(&pc, &pops, NULL, &ps) || prov_new(&dc, &dops, NULL, &ds) ||
	    prov_start(ps, now) || prov_start(ds, now)) {
		abort();
	}
	while (i < size) {
		size_t len = data[i++];

		if (len > size - i) {
			len = size - i;
		}
		now += 10;
		(void)prov_rx(ps, data + i, len, now);
		if (prov_pdu_parse(data + i, len, 0, &f.dev_req, NULL) != 0) {
			memset(&f.dev_req, 0, sizeof(f.dev_req));
		}
		(void)prov_rx(ds, data + i, len, now);
		i += len;
	}
	prov_free(ps);
	prov_free(ds);
	return 0;
}
