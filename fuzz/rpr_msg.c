/*
 * libFuzzer target for the Remote Provisioning message codec.
 *
 * Input: 2 octets of opcode (big-endian), then the message parameters.  A
 * successful decode must re-encode to exactly the same parameters, and
 * borrowed pointers must point inside the input; anything else aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/rpr_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside_or_abort(const uint8_t *q, size_t qlen, const uint8_t *p, size_t len)
{
	if (qlen && (q < p || q + qlen > p + len)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[1024];
	struct rpr_msg m;
	const uint8_t *p;
	uint32_t op;
	size_t len, olen = 0;

	if (size < 2) {
		return 0;
	}
	op = ((uint32_t)data[0] << 8) | data[1];
	p = data + 2;
	len = size - 2;
	if (rpr_msg_decode(op, p, len, &m) != 0) {
		return 0;
	}
	if (m.op != op) {
		abort();
	}
	if (rpr_msg_family(op) == RPR_FAM_PDU) {
		inside_or_abort(m.pdu.pdu, m.pdu.pdu_len, p, len);
	} else if (rpr_msg_family(op) == RPR_FAM_EXT_SCAN_REPORT) {
		inside_or_abort(m.ext_scan_report.adv, m.ext_scan_report.adv_len, p, len);
	}
	if (rpr_msg_encode(&m, out, sizeof(out), &olen) != 0 || olen != len ||
	    (len && memcmp(out, p, len))) {
		abort();
	}
	return 0;
}
