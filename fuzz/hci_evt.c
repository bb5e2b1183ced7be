/*
 * libFuzzer target: bytes from a controller.  The input is an H4 byte stream
 * fed to the incremental reader (gateway/hci_msg.h) in chunks whose sizes
 * come from the first octet; every event it yields goes through the event
 * decoder, the Command Complete return-parameter decoders and, for
 * advertising reports, the AD structure walker.  The whole input is also
 * decoded once as a single datagram (the user channel's view).
 * Seeds in corpus/hci_evt: the events of the start-up sequence, legacy and
 * extended reports, Set Terminated, Hardware Error, ACL/SCO/ISO packets.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/hci_msg.h"

static void on_ad(void *ctx, uint8_t type, const uint8_t *data, size_t len)
{
	size_t *sum = ctx;

	/* Touch every octet so the sanitizers see an overrun. */
	*sum += type;
	for (size_t i = 0; i < len; i++) {
		*sum += data[i];
	}
}

static void decode(const uint8_t *pkt, size_t len)
{
	struct hci_msg_evt e;
	struct hci_msg_local_version v;
	uint8_t buf[64];
	size_t sum = 0;

	if (hci_msg_evt_decode(pkt, len, &e)) {
		return;
	}
	switch (e.kind) {
	case HCI_MSG_CMD_COMPLETE:
		(void)hci_msg_rp_local_version(&e, &v);
		(void)hci_msg_rp_local_commands(&e, buf);
		(void)hci_msg_rp_le_features(&e, buf);
		(void)hci_msg_rp_le_rand(&e, buf);
		(void)hci_msg_rp_num_adv_sets(&e, buf);
		break;
	case HCI_MSG_LE_ADV_REPORT:
		for (size_t i = 0; i < e.u.adv.n; i++) {
			(void)hci_msg_ad_walk(e.u.adv.r[i].data, e.u.adv.r[i].data_len, on_ad,
					      &sum);
		}
		break;
	case HCI_MSG_CMD_STATUS:
	case HCI_MSG_HW_ERROR:
	case HCI_MSG_LE_ADV_SET_TERMINATED:
	case HCI_MSG_OTHER:
		break;
	}
}

static void on_pkt(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx;
	decode(pkt, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hci_h4_rx rx;
	size_t chunk, off;

	if (size < 1) {
		return 0;
	}
	chunk = (size_t)(data[0] & 0x3f) + 1;
	data++;
	size--;
	decode(data, size);
	hci_h4_init(&rx);
	for (off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;

		if (hci_h4_feed(&rx, data + off, n, on_pkt, NULL)) {
			hci_h4_init(&rx); /* resynchronise, as a transport would after re-opening */
		}
	}
	return 0;
}
