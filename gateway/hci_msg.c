#include "gateway/hci_msg.h"

#include <errno.h>
#include <string.h>

#define OP_LE(ocf) HCI_MSG_OP(OGF_LE_CTL, ocf)

/* --- Encoders ---------------------------------------------------------------- */

/* Starts a command packet: indicator, opcode (LE), parameter length. */
static uint8_t *begin(struct hci_msg_cmd *out, uint16_t opcode, size_t plen)
{
	out->opcode = opcode;
	out->buf[0] = HCI_COMMAND_PKT;
	out->buf[1] = (uint8_t)(opcode & 0xff);
	out->buf[2] = (uint8_t)(opcode >> 8);
	out->buf[3] = (uint8_t)plen;
	out->len = 4 + plen;
	memset(out->buf + 4, 0, plen);
	return out->buf + 4;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void hci_msg_reset(struct hci_msg_cmd *out)
{
	(void)begin(out, HCI_MSG_OP(OGF_HOST_CTL, OCF_RESET), 0);
}

void hci_msg_read_local_version(struct hci_msg_cmd *out)
{
	(void)begin(out, HCI_MSG_OP(OGF_INFO_PARAM, OCF_READ_LOCAL_VERSION), 0);
}

void hci_msg_read_local_commands(struct hci_msg_cmd *out)
{
	(void)begin(out, HCI_MSG_OP(OGF_INFO_PARAM, OCF_READ_LOCAL_COMMANDS), 0);
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

void hci_msg_set_event_mask(struct hci_msg_cmd *out, uint64_t mask)
{
	put64(begin(out, HCI_MSG_OP(OGF_HOST_CTL, OCF_SET_EVENT_MASK), 8), mask);
}

void hci_msg_le_set_event_mask(struct hci_msg_cmd *out, uint64_t mask)
{
	put64(begin(out, OP_LE(OCF_LE_SET_EVENT_MASK), 8), mask);
}

void hci_msg_le_read_local_features(struct hci_msg_cmd *out)
{
	(void)begin(out, OP_LE(OCF_LE_READ_LOCAL_SUPPORTED_FEATURES), 0);
}

void hci_msg_le_rand(struct hci_msg_cmd *out)
{
	(void)begin(out, OP_LE(OCF_LE_RAND), 0);
}

void hci_msg_le_set_random_addr(struct hci_msg_cmd *out, const uint8_t addr[6])
{
	memcpy(begin(out, OP_LE(OCF_LE_SET_RANDOM_ADDRESS), 6), addr, 6);
}

int hci_msg_le_set_adv_params(struct hci_msg_cmd *out, uint16_t interval)
{
	uint8_t *p;

	/* §7.8.5: 0x0020..0x4000; ADV_NONCONN_IND before 5.0 needs >= 0x00A0 (checked by the
	 * caller, which knows the controller). */
	if (interval < 0x0020 || interval > 0x4000) {
		return -EINVAL;
	}
	p = begin(out, OP_LE(OCF_LE_SET_ADVERTISING_PARAMETERS), 15);
	put16(p, interval);     /* Advertising_Interval_Min */
	put16(p + 2, interval); /* Advertising_Interval_Max */
	p[4] = 0x03;            /* ADV_NONCONN_IND */
	p[5] = 0x01;            /* own address: random */
	/* p[6] peer address type, p[7..12] peer address: unused, zero */
	p[13] = 0x07; /* channels 37, 38, 39 */
	p[14] = 0x00; /* no filter */
	return 0;
}

int hci_msg_le_set_adv_data(struct hci_msg_cmd *out, const uint8_t *data, size_t len)
{
	uint8_t *p;

	if (len > HCI_MSG_ADV_DATA_MAX) {
		return -EINVAL;
	}
	p = begin(out, OP_LE(OCF_LE_SET_ADVERTISING_DATA), 32);
	p[0] = (uint8_t)len;
	if (len) {
		memcpy(p + 1, data, len);
	}
	return 0;
}

void hci_msg_le_set_adv_enable(struct hci_msg_cmd *out, bool enable)
{
	begin(out, OP_LE(OCF_LE_SET_ADVERTISE_ENABLE), 1)[0] = enable ? 1 : 0;
}

void hci_msg_le_set_scan_params(struct hci_msg_cmd *out, uint16_t interval, uint16_t window)
{
	uint8_t *p = begin(out, OP_LE(OCF_LE_SET_SCAN_PARAMETERS), 7);

	p[0] = 0x00; /* passive */
	put16(p + 1, interval);
	put16(p + 3, window);
	p[5] = 0x00; /* own address: public (a passive scan sends nothing) */
	p[6] = 0x00; /* accept all */
}

void hci_msg_le_set_scan_enable(struct hci_msg_cmd *out, bool enable, bool filter_dup)
{
	uint8_t *p = begin(out, OP_LE(OCF_LE_SET_SCAN_ENABLE), 2);

	p[0] = enable ? 1 : 0;
	p[1] = filter_dup ? 1 : 0;
}

void hci_msg_le_set_adv_set_random_addr(struct hci_msg_cmd *out, uint8_t handle,
					const uint8_t addr[6])
{
	uint8_t *p = begin(out, OP_LE(HCI_MSG_OCF_LE_SET_ADV_SET_RANDOM_ADDR), 7);

	p[0] = handle;
	memcpy(p + 1, addr, 6);
}

int hci_msg_le_set_ext_adv_params(struct hci_msg_cmd *out, const struct hci_msg_ext_adv_params *a)
{
	uint8_t *p;

	/* §7.8.53: handle 0x00..0xEF, intervals 0x000020..0xFFFFFF, SID 0x0..0xF. */
	if (a->handle > 0xef || a->interval < 0x20 || a->interval > 0xffffff || a->sid > 0x0f) {
		return -EINVAL;
	}
	p = begin(out, OP_LE(HCI_MSG_OCF_LE_SET_EXT_ADV_PARAMS), 25);
	p[0] = a->handle;
	put16(p + 1, a->props);
	put24(p + 3, a->interval);
	put24(p + 6, a->interval);
	p[9] = 0x07; /* channel map */
	p[10] = a->own_addr_type;
	/* p[11] peer address type, p[12..17] peer address, p[18] filter policy: zero */
	p[19] = 0x7f; /* TX power: no preference */
	p[20] = 0x01; /* primary PHY: LE 1M */
	p[21] = 0x00; /* secondary max skip */
	p[22] = 0x01; /* secondary PHY: LE 1M */
	p[23] = a->sid;
	p[24] = 0x00; /* no scan request notifications */
	return 0;
}

int hci_msg_le_set_ext_adv_data(struct hci_msg_cmd *out, uint8_t handle, const uint8_t *data,
				size_t len)
{
	uint8_t *p;

	/* Legacy PDUs carry at most 31 octets; that is all the driver sends. */
	if (len > HCI_MSG_ADV_DATA_MAX || handle > 0xef) {
		return -EINVAL;
	}
	p = begin(out, OP_LE(HCI_MSG_OCF_LE_SET_EXT_ADV_DATA), 4 + len);
	p[0] = handle;
	p[1] = 0x03; /* complete data */
	p[2] = 0x01; /* the controller should not fragment */
	p[3] = (uint8_t)len;
	if (len) {
		memcpy(p + 4, data, len);
	}
	return 0;
}

int hci_msg_le_set_ext_adv_enable(struct hci_msg_cmd *out, bool enable,
				  const struct hci_msg_ext_adv_set *sets, size_t n)
{
	uint8_t *p;
	size_t i;

	/* n == 0 with disable means "all sets"; enabling needs at least one. 63 sets max. */
	if ((enable && n == 0) || n > 63) {
		return -EINVAL;
	}
	p = begin(out, OP_LE(HCI_MSG_OCF_LE_SET_EXT_ADV_ENABLE), 2 + 4 * n);
	p[0] = enable ? 1 : 0;
	p[1] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		p[2 + 4 * i] = sets[i].handle;
		put16(p + 3 + 4 * i, sets[i].duration);
		p[5 + 4 * i] = sets[i].max_events;
	}
	return 0;
}

void hci_msg_le_read_num_adv_sets(struct hci_msg_cmd *out)
{
	(void)begin(out, OP_LE(HCI_MSG_OCF_LE_READ_NUM_ADV_SETS), 0);
}

void hci_msg_le_clear_adv_sets(struct hci_msg_cmd *out)
{
	(void)begin(out, OP_LE(HCI_MSG_OCF_LE_CLEAR_ADV_SETS), 0);
}

void hci_msg_le_set_ext_scan_params(struct hci_msg_cmd *out, uint16_t interval, uint16_t window)
{
	uint8_t *p = begin(out, OP_LE(HCI_MSG_OCF_LE_SET_EXT_SCAN_PARAMS), 8);

	p[0] = 0x00; /* own address: public */
	p[1] = 0x00; /* accept all */
	p[2] = 0x01; /* scanning PHYs: LE 1M only */
	p[3] = 0x00; /* passive */
	put16(p + 4, interval);
	put16(p + 6, window);
}

void hci_msg_le_set_ext_scan_enable(struct hci_msg_cmd *out, bool enable, bool filter_dup)
{
	uint8_t *p = begin(out, OP_LE(HCI_MSG_OCF_LE_SET_EXT_SCAN_ENABLE), 6);

	p[0] = enable ? 1 : 0;
	p[1] = filter_dup ? 1 : 0;
	/* Duration and Period zero: scan until disabled. */
}

/* --- The opcode table -------------------------------------------------------- */

struct op_row {
	uint16_t opcode;
	uint8_t ret_len; /* return parameters on success, status included */
	const char *name;
};

static const struct op_row ops[] = {
    {HCI_MSG_OP(OGF_HOST_CTL, OCF_RESET), 1, "Reset"},
    {HCI_MSG_OP(OGF_HOST_CTL, OCF_SET_EVENT_MASK), 1, "Set Event Mask"},
    {HCI_MSG_OP(OGF_INFO_PARAM, OCF_READ_LOCAL_VERSION), 9, "Read Local Version Information"},
    {HCI_MSG_OP(OGF_INFO_PARAM, OCF_READ_LOCAL_COMMANDS), 65, "Read Local Supported Commands"},
    {OP_LE(OCF_LE_SET_EVENT_MASK), 1, "LE Set Event Mask"},
    {OP_LE(OCF_LE_READ_LOCAL_SUPPORTED_FEATURES), 9, "LE Read Local Supported Features"},
    {OP_LE(OCF_LE_SET_RANDOM_ADDRESS), 1, "LE Set Random Address"},
    {OP_LE(OCF_LE_SET_ADVERTISING_PARAMETERS), 1, "LE Set Advertising Parameters"},
    {OP_LE(OCF_LE_SET_ADVERTISING_DATA), 1, "LE Set Advertising Data"},
    {OP_LE(OCF_LE_SET_ADVERTISE_ENABLE), 1, "LE Set Advertising Enable"},
    {OP_LE(OCF_LE_SET_SCAN_PARAMETERS), 1, "LE Set Scan Parameters"},
    {OP_LE(OCF_LE_SET_SCAN_ENABLE), 1, "LE Set Scan Enable"},
    {OP_LE(OCF_LE_RAND), 9, "LE Rand"},
    {OP_LE(HCI_MSG_OCF_LE_SET_ADV_SET_RANDOM_ADDR), 1, "LE Set Advertising Set Random Address"},
    {OP_LE(HCI_MSG_OCF_LE_SET_EXT_ADV_PARAMS), 2, "LE Set Extended Advertising Parameters"},
    {OP_LE(HCI_MSG_OCF_LE_SET_EXT_ADV_DATA), 1, "LE Set Extended Advertising Data"},
    {OP_LE(HCI_MSG_OCF_LE_SET_EXT_ADV_ENABLE), 1, "LE Set Extended Advertising Enable"},
    {OP_LE(HCI_MSG_OCF_LE_READ_NUM_ADV_SETS), 2, "LE Read Number of Supported Advertising Sets"},
    {OP_LE(HCI_MSG_OCF_LE_CLEAR_ADV_SETS), 1, "LE Clear Advertising Sets"},
    {OP_LE(HCI_MSG_OCF_LE_SET_EXT_SCAN_PARAMS), 1, "LE Set Extended Scan Parameters"},
    {OP_LE(HCI_MSG_OCF_LE_SET_EXT_SCAN_ENABLE), 1, "LE Set Extended Scan Enable"},
};

static const struct op_row *op_find(uint16_t opcode)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ops[i].opcode == opcode) {
			return &ops[i];
		}
	}
	return NULL;
}

const char *hci_msg_opcode_name(uint16_t opcode)
{
	const struct op_row *r = op_find(opcode);

	return r ? r->name : "?";
}

int hci_msg_return_len(uint16_t opcode)
{
	const struct op_row *r = op_find(opcode);

	return r ? r->ret_len : -1;
}

/* --- Event decoders ---------------------------------------------------------- */

/* Where one report's fields sit: the legacy report (§7.7.65.2) has 9 fixed octets
 * (type, address type, address, length) then the data then the RSSI; the extended
 * one (§7.7.65.13) 24 fixed octets (properties, address type, address, PHYs, SID,
 * TX power, RSSI, periodic interval, direct address, length) then the data. */
struct report_layout {
	bool extended;
	uint8_t fixed;        /* octets before the data */
	uint8_t type_len;     /* 1: legacy type, 2: extended properties */
	uint8_t rssi_off;     /* in the fixed part; 0: one octet after the data */
	uint8_t data_len_off; /* in the fixed part */
	uint8_t data_max;
};

static const struct report_layout legacy_report = {.extended = false,
						   .fixed = 9,
						   .type_len = 1,
						   .rssi_off = 0,
						   .data_len_off = 8,
						   .data_max = HCI_MSG_ADV_DATA_MAX};
static const struct report_layout ext_report = {.extended = true,
						.fixed = 24,
						.type_len = 2,
						.rssi_off = 13,
						.data_len_off = 23,
						.data_max = UINT8_MAX};

static int decode_reports(const uint8_t *p, size_t len, const struct report_layout *l,
			  struct hci_msg_evt *e)
{
	size_t n, i, off = 1;
	size_t trailer = l->rssi_off ? 0 : 1;

	if (len < 1) {
		return -EBADMSG;
	}
	n = p[0];
	if (n == 0 || n > HCI_MSG_REPORTS_MAX) {
		return -EBADMSG;
	}
	for (i = 0; i < n; i++) {
		struct hci_msg_report *r = &e->u.adv.r[i];
		const uint8_t *f = p + off;

		if (len - off < l->fixed) {
			return -EBADMSG;
		}
		r->event_type = l->type_len == 2 ? get16(f) : f[0];
		r->addr_type = f[l->type_len];
		memcpy(r->addr, f + l->type_len + 1, 6);
		r->data_len = f[l->data_len_off];
		if (l->rssi_off) {
			r->rssi = (int8_t)f[l->rssi_off];
		}
		off += l->fixed;
		if (r->data_len > l->data_max || len - off < (size_t)r->data_len + trailer) {
			return -EBADMSG;
		}
		r->data = p + off;
		off += r->data_len;
		if (trailer) {
			r->rssi = (int8_t)p[off];
			off++;
		}
	}
	if (off != len) {
		return -EBADMSG;
	}
	e->kind = HCI_MSG_LE_ADV_REPORT;
	e->u.adv.extended = l->extended;
	e->u.adv.n = n;
	return 0;
}

static int decode_le_meta(const uint8_t *p, size_t len, struct hci_msg_evt *e)
{
	if (len < 1) {
		return -EBADMSG;
	}
	e->subevent = p[0];
	switch (p[0]) {
	case EVT_LE_ADVERTISING_REPORT:
		return decode_reports(p + 1, len - 1, &legacy_report, e);
	case HCI_MSG_EVT_LE_EXT_ADV_REPORT:
		return decode_reports(p + 1, len - 1, &ext_report, e);
	case HCI_MSG_EVT_LE_ADV_SET_TERMINATED:
		if (len != 6) {
			return -EBADMSG;
		}
		e->kind = HCI_MSG_LE_ADV_SET_TERMINATED;
		e->u.term.status = p[1];
		e->u.term.handle = p[2];
		e->u.term.conn = get16(p + 3);
		e->u.term.completed = p[5];
		return 0;
	default:
		e->kind = HCI_MSG_OTHER;
		return 0;
	}
}

int hci_msg_evt_decode(const uint8_t *pkt, size_t len, struct hci_msg_evt *e)
{
	const uint8_t *p;
	size_t plen;

	if (len < 3 || pkt[0] != HCI_EVENT_PKT || (size_t)pkt[2] != len - 3) {
		return -EBADMSG;
	}
	memset(e, 0, sizeof(*e));
	e->code = pkt[1];
	p = pkt + 3;
	plen = pkt[2];
	switch (e->code) {
	case EVT_CMD_COMPLETE: {
		int want;

		if (plen < 3) {
			return -EBADMSG;
		}
		e->kind = HCI_MSG_CMD_COMPLETE;
		e->u.cc.ncmd = p[0];
		e->u.cc.opcode = get16(p + 1);
		e->u.cc.ret = p + 3;
		e->u.cc.ret_len = plen - 3;
		e->u.cc.status = plen > 3 ? p[3] : 0;
		want = hci_msg_return_len(e->u.cc.opcode);
		/* A known command that succeeded must carry all its return parameters. */
		if (want > 0 && (e->u.cc.ret_len < 1 ||
				 (e->u.cc.status == 0 && e->u.cc.ret_len < (size_t)want))) {
			return -EBADMSG;
		}
		return 0;
	}
	case EVT_CMD_STATUS:
		if (plen != 4) {
			return -EBADMSG;
		}
		e->kind = HCI_MSG_CMD_STATUS;
		e->u.cs.status = p[0];
		e->u.cs.ncmd = p[1];
		e->u.cs.opcode = get16(p + 2);
		return 0;
	case EVT_HARDWARE_ERROR:
		if (plen != 1) {
			return -EBADMSG;
		}
		e->kind = HCI_MSG_HW_ERROR;
		e->u.hw_code = p[0];
		return 0;
	case EVT_LE_META_EVENT:
		return decode_le_meta(p, plen, e);
	default:
		e->kind = HCI_MSG_OTHER;
		return 0;
	}
}

static int rp(const struct hci_msg_evt *e, size_t want)
{
	if (e->kind != HCI_MSG_CMD_COMPLETE || e->u.cc.ret_len < want || e->u.cc.status != 0) {
		return -EBADMSG;
	}
	return 0;
}

/* A success reply that is the status and exactly n octets, copied to out. */
static int rp_copy(const struct hci_msg_evt *e, uint8_t *out, size_t n)
{
	if (rp(e, n + 1)) {
		return -EBADMSG;
	}
	memcpy(out, e->u.cc.ret + 1, n);
	return 0;
}

int hci_msg_rp_local_version(const struct hci_msg_evt *e, struct hci_msg_local_version *v)
{
	const uint8_t *r = e->u.cc.ret;

	if (rp(e, 9)) {
		return -EBADMSG;
	}
	v->hci_version = r[1];
	v->hci_revision = get16(r + 2);
	v->lmp_version = r[4];
	v->manufacturer = get16(r + 5);
	v->lmp_subversion = get16(r + 7);
	return 0;
}

int hci_msg_rp_local_commands(const struct hci_msg_evt *e, uint8_t cmds[64])
{
	return rp_copy(e, cmds, 64);
}

int hci_msg_rp_le_features(const struct hci_msg_evt *e, uint8_t feat[8])
{
	return rp_copy(e, feat, 8);
}

int hci_msg_rp_le_rand(const struct hci_msg_evt *e, uint8_t rnd[8])
{
	return rp_copy(e, rnd, 8);
}

int hci_msg_rp_num_adv_sets(const struct hci_msg_evt *e, uint8_t *n)
{
	if (rp(e, 2)) {
		return -EBADMSG;
	}
	*n = e->u.cc.ret[1];
	return 0;
}

int hci_msg_ad_walk(const uint8_t *data, size_t len, hci_msg_ad_cb cb, void *ctx)
{
	size_t off = 0;

	while (off < len) {
		size_t l = data[off];

		if (l == 0) {
			return 0; /* early termination: the rest is padding */
		}
		if (l > len - off - 1) {
			return -EBADMSG;
		}
		cb(ctx, data[off + 1], data + off + 2, l - 1);
		off += 1 + l;
	}
	return 0;
}

/* --- H4 stream reader -------------------------------------------------------- */

void hci_h4_init(struct hci_h4_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

bool hci_h4_idle(const struct hci_h4_rx *rx)
{
	return rx->have == 0;
}

/* Header length after the indicator, or 0 for an unknown indicator. */
static size_t header_len(uint8_t ind)
{
	switch (ind) {
	case HCI_EVENT_PKT:
		return HCI_EVENT_HDR_SIZE; /* code, length */
	case HCI_ACLDATA_PKT:
		return 4; /* handle+flags, length (2) */
	case HCI_SCODATA_PKT:
		return 3; /* handle+flags, length (1) */
	case HCI_ISODATA_PKT:
		return 4; /* handle+flags, length (14 bits) */
	default:
		return 0;
	}
}

static size_t body_len(const uint8_t *b)
{
	switch (b[0]) {
	case HCI_EVENT_PKT:
		return b[2];
	case HCI_ACLDATA_PKT:
		return get16(b + 3);
	case HCI_SCODATA_PKT:
		return b[3];
	case HCI_ISODATA_PKT:
		return get16(b + 3) & 0x3fff;
	default:
		return 0;
	}
}

int hci_h4_feed(struct hci_h4_rx *rx, const uint8_t *data, size_t len, hci_h4_cb cb, void *ctx)
{
	size_t i = 0;

	while (i < len) {
		if (rx->have == 0) {
			rx->hdr = header_len(data[i]);
			if (!rx->hdr) {
				hci_h4_init(rx);
				return -EBADMSG;
			}
			rx->buf[0] = data[i++];
			rx->have = 1;
			rx->need = 0;
			rx->deliver = rx->buf[0] == HCI_EVENT_PKT;
			continue;
		}
		if (rx->have < 1 + rx->hdr) {
			rx->buf[rx->have++] = data[i++];
			if (rx->have == 1 + rx->hdr) {
				rx->need = 1 + rx->hdr + body_len(rx->buf);
			}
		} else {
			/* Body: events are kept (they fit: 255 octets), the rest is counted. */
			size_t take = rx->need - rx->have;

			if (take > len - i) {
				take = len - i;
			}
			if (rx->deliver) {
				memcpy(rx->buf + rx->have, data + i, take);
			}
			rx->have += take;
			i += take;
		}
		if (rx->need && rx->have == rx->need) {
			if (rx->deliver) {
				cb(ctx, rx->buf, rx->have);
			}
			rx->have = 0;
			rx->need = 0;
		}
	}
	return 0;
}
