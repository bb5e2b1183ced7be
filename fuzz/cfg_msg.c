/*
 * libFuzzer target for the Config and Generic OnOff message codecs.
 *
 * Input: 2 octets of opcode (big-endian, as an access-layer opcode value;
 * 0x00XX selects the one-octet opcodes), then the message parameters.  A
 * successful decode must re-encode to exactly the same parameters: the
 * codec promises that decode and encode are inverse on every accepted
 * input, so any difference is a bug and aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/cfg_msg.h"
#include "mesh/onoff_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_or_abort(int err, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (err || alen != blen || (alen && memcmp(a, b, alen))) {
		abort();
	}
}

static void onoff(uint32_t op, const uint8_t *p, size_t len)
{
	uint8_t out[8];
	size_t olen = 0;

	if (op == ONOFF_OP_SET || op == ONOFF_OP_SET_UNACK) {
		struct onoff_set m;

		if (onoff_msg_set_decode(p, len, &m) == 0) {
			same_or_abort(onoff_msg_set_encode(&m, out, sizeof(out), &olen), out, olen,
				      p, len);
		}
	} else if (op == ONOFF_OP_STATUS) {
		struct onoff_status m;

		if (onoff_msg_status_decode(p, len, &m) == 0) {
			same_or_abort(onoff_msg_status_encode(&m, out, sizeof(out), &olen), out,
				      olen, p, len);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[1024];
	struct cfg_msg m;
	const uint8_t *p;
	uint32_t op;
	size_t len, olen = 0;

	if (size < 2) {
		return 0;
	}
	op = ((uint32_t)data[0] << 8) | data[1];
	p = data + 2;
	len = size - 2;
	onoff(op, p, len);
	if (cfg_msg_decode(op, p, len, &m) != 0) {
		return 0;
	}
	if (m.op != op) {
		abort();
	}
	same_or_abort(cfg_msg_encode(&m, out, sizeof(out), &olen), out, olen, p, len);
	return 0;
}
