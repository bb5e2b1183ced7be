/*
 * The HCI commands of the virtual LE controller (hci_ctrl.h; sim/PORTS.md
 * "HCI port"): parameter checks, state changes and Command Complete or
 * Command Status.  Opcodes, layouts and bitmap positions are from the Core
 * specification v5.2 Vol 4 Part E §7; the code is meshsim's own.
 */
#include <string.h>

#include "sim/hci_int.h"

static void cmd_complete(struct sim_hci_ctrl *c, uint16_t op, uint8_t status, const uint8_t *rp,
			 size_t n)
{
	evt_cmd_complete h = {.ncmd = 1, .opcode = htobs(op)};
	uint8_t p[EVT_CMD_COMPLETE_SIZE + 1 + 64];

	memcpy(p, &h, EVT_CMD_COMPLETE_SIZE);
	p[EVT_CMD_COMPLETE_SIZE] = status;
	memcpy(p + EVT_CMD_COMPLETE_SIZE + 1, rp, n);
	sim_hci_event(c, EVT_CMD_COMPLETE, p, EVT_CMD_COMPLETE_SIZE + 1 + n);
}

static void cmd_status(struct sim_hci_ctrl *c, uint16_t op, uint8_t status)
{
	evt_cmd_status h = {.status = status, .ncmd = 1, .opcode = htobs(op)};

	sim_hci_event(c, EVT_CMD_STATUS, (const uint8_t *)&h, EVT_CMD_STATUS_SIZE);
}

static void count_op(struct sim_hci_ctrl *c, uint16_t op)
{
	for (size_t i = 0; i < OPCODES_MAX; i++) {
		if (c->ops[i].n && c->ops[i].op == op) {
			c->ops[i].n++;
			return;
		}
		if (!c->ops[i].n) {
			c->ops[i].op = op;
			c->ops[i].n = 1;
			return;
		}
	}
}

static bool any_ext_enabled(const struct sim_hci_ctrl *c)
{
	for (unsigned i = 0; i < c->n_sets; i++) {
		if (c->sets[i].used && c->sets[i].enabled) {
			return true;
		}
	}
	return false;
}

static struct adv_set *set_find(struct sim_hci_ctrl *c, uint8_t handle)
{
	for (unsigned i = 0; i < c->n_sets; i++) {
		if (c->sets[i].used && c->sets[i].handle == handle) {
			return &c->sets[i];
		}
	}
	return NULL;
}

static void set_start(struct adv_set *s, uint64_t now)
{
	s->enabled = true;
	s->events = 0;
	s->next_us = now; /* the first event starts at once (plus the air's advDelay) */
}

struct cmd_ctx {
	struct sim_hci_ctrl *c;
	const uint8_t *p;
	size_t n;
	uint8_t rp[64];
	uint64_t now;
};

typedef uint8_t (*cmd_fn)(struct cmd_ctx *x);

static uint8_t c_reset(struct cmd_ctx *x)
{
	sim_hci_state_reset(x->c);
	return 0;
}

static uint8_t c_set_event_mask(struct cmd_ctx *x)
{
	x->c->evmask = bt_get_le64(x->p);
	return 0;
}

static uint8_t c_read_version(struct cmd_ctx *x)
{
	uint8_t ver = x->c->profile == SIM_HCI_EXTENDED ? 0x0B : 0x08; /* 5.2 or 4.2 */
	read_local_version_rp rp = {.hci_ver = ver,
				    .hci_rev = htobs(0x0000),
				    .lmp_ver = ver,
				    .manufacturer = htobs(MANUFACTURER),
				    .lmp_subver = htobs(0x0001)};

	/* The return parameters after Status. */
	memcpy(x->rp, (const uint8_t *)&rp + 1, READ_LOCAL_VERSION_RP_SIZE - 1);
	return 0;
}

static uint8_t c_read_commands(struct cmd_ctx *x)
{
	uint8_t *b = x->rp;

	b[5] |= 0x40 | 0x80;  /* Set Event Mask, Reset */
	b[14] |= 0x08 | 0x20; /* Read Local Version Information, Read Local Supported Features */
	b[15] |= 0x02;        /* Read BD_ADDR */
	b[25] |= 0x01 | 0x02 | 0x04 | 0x10 | 0x20 | 0x40 | 0x80; /* LE Set Event Mask ...
								    LE Set Advertising Data */
	b[26] |= 0x01 | 0x02 | 0x04 | 0x08; /* LE Set Scan Response Data ... LE Set Scan Enable */
	b[27] |= 0x80;                      /* LE Rand */
	if (x->c->profile == SIM_HCI_EXTENDED) {
		/* LE Set Advertising Set Random Address, LE Set Extended Advertising
		 * Parameters, ... Data, ... Enable, LE Read Maximum Advertising Data
		 * Length, LE Read Number of Supported Advertising Sets (not bit 4: LE Set
		 * Extended Scan Response Data is not implemented) */
		b[36] |= 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80;
		/* LE Remove Advertising Set, LE Clear Advertising Sets, LE Set Extended
		 * Scan Parameters, LE Set Extended Scan Enable */
		b[37] |= 0x01 | 0x02 | 0x20 | 0x40;
	}
	return 0;
}

static uint8_t c_read_features(struct cmd_ctx *x)
{
	x->rp[4] = 0x20 | 0x40; /* BR/EDR Not Supported, LE Supported (Controller) */
	return 0;
}

static uint8_t c_read_bdaddr(struct cmd_ctx *x)
{
	memcpy(x->rp, x->c->bdaddr, 6);
	return 0;
}

static uint8_t c_le_set_event_mask(struct cmd_ctx *x)
{
	x->c->le_evmask = bt_get_le64(x->p);
	return 0;
}

static uint8_t c_le_read_buffer_size(struct cmd_ctx *x)
{
	put_le16(x->rp, ACL_MTU);
	x->rp[2] = ACL_PKTS;
	return 0;
}

static uint8_t c_le_read_features(struct cmd_ctx *x)
{
	if (x->c->profile == SIM_HCI_EXTENDED) {
		x->rp[1] = 0x10; /* bit 12: LE Extended Advertising */
	}
	return 0;
}

static uint8_t c_le_set_random_address(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;

	if (c->leg.enabled || c->scanning) {
		return HCI_COMMAND_DISALLOWED;
	}
	memcpy(c->random_addr, x->p, 6);
	c->has_random = true;
	return 0;
}

static uint8_t c_le_set_adv_params(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;
	le_set_advertising_parameters_cp cp;
	uint16_t min, max;
	uint8_t type, own, map;
	static const uint16_t props[] = {
	    PROP_LEGACY | PROP_CONN | PROP_SCAN,                /* ADV_IND */
	    PROP_LEGACY | PROP_CONN | PROP_DIRECTED | PROP_HDC, /* ADV_DIRECT_IND high duty */
	    PROP_LEGACY | PROP_SCAN,                            /* ADV_SCAN_IND */
	    PROP_LEGACY,                                        /* ADV_NONCONN_IND */
	    PROP_LEGACY | PROP_CONN | PROP_DIRECTED,            /* ADV_DIRECT_IND low duty */
	};

	memcpy(&cp, x->p, sizeof(cp));
	min = btohs(cp.min_interval);
	max = btohs(cp.max_interval);
	type = cp.advtype;
	own = cp.own_bdaddr_type;
	map = cp.chan_map;
	if (c->leg.enabled) {
		return HCI_COMMAND_DISALLOWED;
	}
	if (type > 0x04 || own > 0x03 || cp.direct_bdaddr_type > 0x01 || !(map & 0x07) ||
	    (map & ~0x07) || cp.filter > 0x03) {
		return HCI_INVALID_PARAMETERS;
	}
	if (type != 0x01) { /* high duty cycle directed advertising ignores the intervals */
		uint16_t lo = 0x0020;

		/* Core v4.2: ADV_SCAN_IND and ADV_NONCONN_IND need at least 100 ms. */
		if (c->profile == SIM_HCI_LEGACY && (type == 0x02 || type == 0x03)) {
			lo = 0x00A0;
		}
		if (min < lo || max > 0x4000 || min > max) {
			return HCI_INVALID_PARAMETERS;
		}
	}
	c->leg.int_min = min;
	c->leg.int_max = max;
	c->leg_type = type;
	c->leg.props = props[type];
	c->leg.own_addr_type = own;
	return 0;
}

static uint8_t c_le_read_adv_tx_power(struct cmd_ctx *x)
{
	x->rp[0] = 0; /* 0 dBm */
	return 0;
}

/* LE Set Advertising Data and LE Set Scan Response Data share one layout: a length,
 * then 31 octets of which that many count. */
static uint8_t set_legacy_payload(const uint8_t *p, uint8_t *dst, size_t *dst_len)
{
	le_set_advertising_data_cp cp;

	memcpy(&cp, p, sizeof(cp));
	if (cp.length > sizeof(cp.data)) {
		return HCI_INVALID_PARAMETERS;
	}
	memcpy(dst, cp.data, cp.length);
	*dst_len = cp.length;
	return 0;
}

static uint8_t c_le_set_adv_data(struct cmd_ctx *x)
{
	return set_legacy_payload(x->p, x->c->leg.data, &x->c->leg.data_len);
}

static uint8_t c_le_set_scan_rsp_data(struct cmd_ctx *x)
{
	return set_legacy_payload(x->p, x->c->scan_rsp, &x->c->scan_rsp_len);
}

/* An own address type that needs the random address needs one set. */
static bool addr_missing(uint8_t own, bool has)
{
	return (own == 0x01 || own == 0x03) && !has;
}

static uint8_t c_le_set_adv_enable(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;

	if (x->p[0] > 0x01) {
		return HCI_INVALID_PARAMETERS;
	}
	if (!x->p[0]) {
		c->leg.enabled = false;
		return 0;
	}
	if (c->leg.enabled) {
		return 0; /* already advertising: no change (Core v5.x) */
	}
	if (addr_missing(c->leg.own_addr_type, c->has_random)) {
		return HCI_INVALID_PARAMETERS;
	}
	set_start(&c->leg, x->now);
	c->leg.end_us = UINT64_MAX;
	c->leg.max_events = 0;
	return 0;
}

static uint8_t c_le_set_scan_params(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;
	le_set_scan_parameters_cp cp;
	uint16_t interval, window;

	memcpy(&cp, x->p, sizeof(cp));
	interval = btohs(cp.interval);
	window = btohs(cp.window);
	if (c->scanning) {
		return HCI_COMMAND_DISALLOWED;
	}
	if (cp.type > 0x01 || interval < 0x0004 || interval > 0x4000 || window < 0x0004 ||
	    window > 0x4000 || window > interval || cp.own_bdaddr_type > 0x03 || cp.filter > 0x03) {
		return HCI_INVALID_PARAMETERS;
	}
	c->scan_type = cp.type;
	c->scan_interval = interval;
	c->scan_window = window;
	c->scan_own = cp.own_bdaddr_type;
	c->scan_filter = cp.filter;
	return 0;
}

static void scan_enable(struct sim_hci_ctrl *c, bool ext, uint8_t filter_dup, uint64_t now)
{
	if (!c->scanning) {
		c->scan_start = now;
		c->n_dups = 0;
	}
	c->scanning = true;
	c->scan_ext = ext;
	c->filter_dup = filter_dup;
	c->scan_end = UINT64_MAX;
}

static uint8_t c_le_set_scan_enable(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;
	le_set_scan_enable_cp cp;

	memcpy(&cp, x->p, sizeof(cp));
	if (cp.enable > 0x01 || cp.filter_dup > 0x01) {
		return HCI_INVALID_PARAMETERS;
	}
	if (!cp.enable) {
		c->scanning = false;
		c->n_dups = 0;
		return 0;
	}
	scan_enable(c, false, cp.filter_dup, x->now);
	return 0;
}

static uint8_t c_le_rand(struct cmd_ctx *x)
{
	bt_put_le64(sim_hci_rnd(x->c), x->rp);
	return 0;
}

/* Extended advertising -------------------------------------------------- */

/* The set named by the command's first octet, which must exist and be disabled; or
 * the status to answer with. */
static uint8_t idle_set(struct cmd_ctx *x, struct adv_set **out)
{
	if (x->p[0] > ADV_HANDLE_MAX) {
		return HCI_INVALID_PARAMETERS;
	}
	if (!(*out = set_find(x->c, x->p[0]))) {
		return SIM_HCI_ERR_UNKNOWN_ADV_ID;
	}
	return (*out)->enabled ? HCI_COMMAND_DISALLOWED : 0;
}

static uint8_t c_le_set_adv_set_random_addr(struct cmd_ctx *x)
{
	struct adv_set *s;
	uint8_t st = idle_set(x, &s);

	if (st) {
		return st;
	}
	memcpy(s->addr, x->p + 1, 6);
	s->has_addr = true;
	return 0;
}

static bool props_valid(uint16_t props)
{
	if (props & ~0x007F) {
		return false;
	}
	if (props & PROP_LEGACY) {
		/* Only the five legacy PDU types (Table 7.2 of §7.8.53), optionally with
		 * nothing else: anonymous and Tx power are not allowed with legacy PDUs. */
		switch (props) {
		case PROP_LEGACY | PROP_CONN | PROP_SCAN:
		case PROP_LEGACY | PROP_CONN | PROP_DIRECTED:
		case PROP_LEGACY | PROP_CONN | PROP_DIRECTED | PROP_HDC:
		case PROP_LEGACY | PROP_SCAN:
		case PROP_LEGACY:
			return true;
		default:
			return false;
		}
	}
	if ((props & PROP_CONN) && (props & PROP_SCAN)) {
		return false;
	}
	if ((props & PROP_ANON) && (props & (PROP_CONN | PROP_SCAN))) {
		return false;
	}
	return !(props & PROP_HDC);
}

static uint8_t c_le_set_ext_adv_params(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;
	const uint8_t *p = x->p;
	uint8_t handle = p[0];
	uint16_t props = bt_get_le16(p + 1);
	uint32_t min = get_le24(p + 3), max = get_le24(p + 6);
	uint8_t map = p[9], own = p[10], peer = p[11], filter = p[18];
	int8_t txp = (int8_t)p[19];
	uint8_t phy1 = p[20], phy2 = p[22], sid = p[23], notify = p[24];
	struct adv_set *s;

	if (handle > ADV_HANDLE_MAX || !props_valid(props) || !(map & 0x07) || (map & ~0x07) ||
	    own > 0x03 || peer > 0x01 || filter > 0x03 || sid > 0x0F || notify > 0x01 ||
	    (phy1 != 0x01 && phy1 != 0x03) || phy2 < 0x01 || phy2 > 0x03) {
		return HCI_INVALID_PARAMETERS;
	}
	if (!(props & PROP_HDC) && (min < 0x000020 || min > max)) {
		return HCI_INVALID_PARAMETERS;
	}
	if (phy1 != 0x01 || phy2 != 0x01) {
		return HCI_UNSUPPORTED_FEATURE; /* LE 1M only */
	}
	s = set_find(c, handle);
	if (s && s->enabled) {
		return HCI_COMMAND_DISALLOWED;
	}
	if (!s) {
		for (unsigned i = 0; i < c->n_sets && !s; i++) {
			if (!c->sets[i].used) {
				s = &c->sets[i];
			}
		}
		if (!s) {
			return HCI_MEMORY_FULL;
		}
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->handle = handle;
	}
	/* Legacy PDUs cannot carry more than 31 octets: changing to them drops longer data. */
	if ((props & PROP_LEGACY) && s->data_len > LEGACY_DATA_MAX) {
		return HCI_INVALID_PARAMETERS;
	}
	s->props = props;
	s->int_min = min;
	s->int_max = max;
	s->own_addr_type = own;
	/* Selected_TX_Power: 0x7F (no preference) gives 0 dBm; else clamped to what we have. */
	x->rp[0] = (uint8_t)(txp == 0x7F ? 0 : txp > 10 ? 10 : txp < -20 ? -20 : txp);
	return 0;
}

static uint8_t c_le_set_ext_adv_data(struct cmd_ctx *x)
{
	const uint8_t *p = x->p;
	uint8_t handle = p[0], op = p[1], frag = p[2], len = p[3];
	struct adv_set *s;

	if (x->n != 4u + len) {
		return HCI_INVALID_PARAMETERS;
	}
	if (handle > ADV_HANDLE_MAX || op > 0x04 || frag > 0x01 || len > EXT_DATA_MAX) {
		return HCI_INVALID_PARAMETERS;
	}
	if (!(s = set_find(x->c, handle))) {
		return SIM_HCI_ERR_UNKNOWN_ADV_ID;
	}
	if (s->props & PROP_LEGACY) {
		if (op != 0x03 || len > LEGACY_DATA_MAX) {
			return HCI_INVALID_PARAMETERS;
		}
	}
	if (s->enabled && op != 0x03 && op != 0x04) {
		return HCI_COMMAND_DISALLOWED;
	}
	switch (op) {
	case 0x00: /* first fragment */
		memcpy(s->data, p + 4, len);
		s->data_len = len;
		s->frag_open = true;
		break;
	case 0x01: /* intermediate */
	case 0x02: /* last */
		if (!s->frag_open) {
			return HCI_INVALID_PARAMETERS;
		}
		if (s->data_len + len > EXT_DATA_MAX) {
			s->frag_open = false;
			s->data_len = 0;
			return HCI_MEMORY_FULL;
		}
		memcpy(s->data + s->data_len, p + 4, len);
		s->data_len += len;
		s->frag_open = op == 0x01;
		break;
	case 0x03: /* complete */
		memcpy(s->data, p + 4, len);
		s->data_len = len;
		s->frag_open = false;
		break;
	default: /* 0x04: unchanged data, only to refresh the DID of an enabled set */
		if (len || !s->enabled) {
			return HCI_INVALID_PARAMETERS;
		}
		break;
	}
	return 0;
}

static uint8_t c_le_set_ext_adv_enable(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;
	const uint8_t *p = x->p;
	uint8_t enable = p[0], num = p[1];
	struct adv_set *sets[SIM_HCI_ADV_SETS_MAX];

	if (x->n != 2u + 4u * num || enable > 0x01 || (enable && !num) || num > c->n_sets) {
		return HCI_INVALID_PARAMETERS;
	}
	if (!enable && !num) {
		for (unsigned i = 0; i < c->n_sets; i++) {
			c->sets[i].enabled = false;
		}
		return 0;
	}
	for (unsigned i = 0; i < num; i++) {
		const uint8_t *e = p + 2 + 4 * i;

		if (e[0] > ADV_HANDLE_MAX) {
			return HCI_INVALID_PARAMETERS;
		}
		for (unsigned j = 0; j < i; j++) {
			if (p[2 + 4 * j] == e[0]) {
				return HCI_INVALID_PARAMETERS; /* a handle twice */
			}
		}
		if (!(sets[i] = set_find(c, e[0]))) {
			return SIM_HCI_ERR_UNKNOWN_ADV_ID;
		}
		if (enable && addr_missing(sets[i]->own_addr_type, sets[i]->has_addr)) {
			return HCI_INVALID_PARAMETERS;
		}
		if (enable && sets[i]->frag_open) {
			return HCI_COMMAND_DISALLOWED; /* incomplete fragmented data */
		}
	}
	for (unsigned i = 0; i < num; i++) {
		const uint8_t *e = p + 2 + 4 * i;
		uint16_t duration = bt_get_le16(e + 1);

		if (!enable) {
			sets[i]->enabled = false;
			continue;
		}
		set_start(sets[i], x->now);
		sets[i]->end_us = duration ? x->now + (uint64_t)duration * 10000u : UINT64_MAX;
		sets[i]->max_events = e[3];
	}
	return 0;
}

static uint8_t c_le_read_max_adv_data_len(struct cmd_ctx *x)
{
	put_le16(x->rp, EXT_DATA_MAX);
	return 0;
}

static uint8_t c_le_read_num_adv_sets(struct cmd_ctx *x)
{
	x->rp[0] = (uint8_t)x->c->n_sets;
	return 0;
}

static uint8_t c_le_remove_adv_set(struct cmd_ctx *x)
{
	struct adv_set *s;
	uint8_t st = idle_set(x, &s);

	if (st) {
		return st;
	}
	memset(s, 0, sizeof(*s));
	return 0;
}

static uint8_t c_le_clear_adv_sets(struct cmd_ctx *x)
{
	if (any_ext_enabled(x->c)) {
		return HCI_COMMAND_DISALLOWED;
	}
	memset(x->c->sets, 0, sizeof(x->c->sets));
	return 0;
}

static uint8_t c_le_set_ext_scan_params(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;
	const uint8_t *p = x->p;
	uint8_t phys = p[2];
	unsigned n_phy = (phys & 0x01) + ((phys >> 2) & 0x01);
	const uint8_t *e = p + 3;
	uint16_t interval, window;

	if (x->n != 3u + 5u * n_phy || p[0] > 0x03 || p[1] > 0x03 || !phys || (phys & ~0x05)) {
		return HCI_INVALID_PARAMETERS;
	}
	for (unsigned i = 0; i < n_phy; i++) {
		const uint8_t *f = p + 3 + 5 * i;
		uint16_t iv = bt_get_le16(f + 1), wn = bt_get_le16(f + 3);

		if (f[0] > 0x01 || iv < 0x0004 || wn < 0x0004 || wn > iv) {
			return HCI_INVALID_PARAMETERS;
		}
	}
	if (c->scanning) {
		return HCI_COMMAND_DISALLOWED;
	}
	if (phys & 0x04) {
		return HCI_UNSUPPORTED_FEATURE; /* LE Coded is not supported */
	}
	interval = bt_get_le16(e + 1);
	window = bt_get_le16(e + 3);
	c->scan_own = p[0];
	c->scan_filter = p[1];
	c->scan_type = e[0];
	c->scan_interval = interval;
	c->scan_window = window;
	return 0;
}

static uint8_t c_le_set_ext_scan_enable(struct cmd_ctx *x)
{
	struct sim_hci_ctrl *c = x->c;
	const uint8_t *p = x->p;
	uint16_t duration = bt_get_le16(p + 2), period = bt_get_le16(p + 4);

	if (p[0] > 0x01 || p[1] > 0x02) {
		return HCI_INVALID_PARAMETERS;
	}
	if (!p[0]) {
		c->scanning = false;
		c->n_dups = 0;
		return 0;
	}
	if (period && (!duration || (uint32_t)duration >= (uint32_t)period * 128u)) {
		return HCI_INVALID_PARAMETERS;
	}
	if (period) {
		return HCI_UNSUPPORTED_FEATURE; /* periodic scanning is not implemented */
	}
	scan_enable(c, true, p[1] ? 1 : 0, x->now);
	if (duration) {
		c->scan_end = x->now + (uint64_t)duration * 10000u;
	}
	return 0;
}

struct cmd_def {
	uint16_t op;
	int16_t len;    /* exact parameter length, -1: checked by the handler */
	uint8_t rp_len; /* return parameters after the status */
	enum cls cls;
	cmd_fn fn;
};

static const struct cmd_def cmds[] = {
    {OP(OGF_HOST_CTL, OCF_RESET), 0, 0, CLS_ANY, c_reset},
    {OP(OGF_HOST_CTL, OCF_SET_EVENT_MASK), 8, 0, CLS_ANY, c_set_event_mask},
    {OP(OGF_INFO_PARAM, OCF_READ_LOCAL_VERSION), 0, 8, CLS_ANY, c_read_version},
    {OP(OGF_INFO_PARAM, OCF_READ_LOCAL_COMMANDS), 0, 64, CLS_ANY, c_read_commands},
    {OP(OGF_INFO_PARAM, OCF_READ_LOCAL_FEATURES), 0, 8, CLS_ANY, c_read_features},
    {OP(OGF_INFO_PARAM, OCF_READ_BD_ADDR), 0, 6, CLS_ANY, c_read_bdaddr},
    {OP_LE(OCF_LE_SET_EVENT_MASK), 8, 0, CLS_ANY, c_le_set_event_mask},
    {OP_LE(OCF_LE_READ_BUFFER_SIZE), 0, 3, CLS_ANY, c_le_read_buffer_size},
    {OP_LE(OCF_LE_READ_LOCAL_SUPPORTED_FEATURES), 0, 8, CLS_ANY, c_le_read_features},
    {OP_LE(OCF_LE_SET_RANDOM_ADDRESS), 6, 0, CLS_ANY, c_le_set_random_address},
    {OP_LE(OCF_LE_SET_ADVERTISING_PARAMETERS), LE_SET_ADVERTISING_PARAMETERS_CP_SIZE, 0, CLS_LEGACY,
     c_le_set_adv_params},
    {OP_LE(OCF_LE_READ_ADVERTISING_CHANNEL_TX_POWER), 0, 1, CLS_LEGACY, c_le_read_adv_tx_power},
    {OP_LE(OCF_LE_SET_ADVERTISING_DATA), LE_SET_ADVERTISING_DATA_CP_SIZE, 0, CLS_LEGACY,
     c_le_set_adv_data},
    {OP_LE(OCF_LE_SET_SCAN_RESPONSE_DATA), LE_SET_SCAN_RESPONSE_DATA_CP_SIZE, 0, CLS_LEGACY,
     c_le_set_scan_rsp_data},
    {OP_LE(OCF_LE_SET_ADVERTISE_ENABLE), LE_SET_ADVERTISE_ENABLE_CP_SIZE, 0, CLS_LEGACY,
     c_le_set_adv_enable},
    {OP_LE(OCF_LE_SET_SCAN_PARAMETERS), LE_SET_SCAN_PARAMETERS_CP_SIZE, 0, CLS_LEGACY,
     c_le_set_scan_params},
    {OP_LE(OCF_LE_SET_SCAN_ENABLE), LE_SET_SCAN_ENABLE_CP_SIZE, 0, CLS_LEGACY,
     c_le_set_scan_enable},
    {OP_LE(OCF_LE_RAND), 0, 8, CLS_ANY, c_le_rand},
    {OP_LE(SIM_HCI_OCF_LE_SET_ADV_SET_RANDOM_ADDR), 7, 0, CLS_EXT, c_le_set_adv_set_random_addr},
    {OP_LE(SIM_HCI_OCF_LE_SET_EXT_ADV_PARAMS), 25, 1, CLS_EXT, c_le_set_ext_adv_params},
    {OP_LE(SIM_HCI_OCF_LE_SET_EXT_ADV_DATA), -1, 0, CLS_EXT, c_le_set_ext_adv_data},
    {OP_LE(SIM_HCI_OCF_LE_SET_EXT_ADV_ENABLE), -1, 0, CLS_EXT, c_le_set_ext_adv_enable},
    {OP_LE(SIM_HCI_OCF_LE_READ_MAX_ADV_DATA_LEN), 0, 2, CLS_EXT, c_le_read_max_adv_data_len},
    {OP_LE(SIM_HCI_OCF_LE_READ_NUM_ADV_SETS), 0, 1, CLS_EXT, c_le_read_num_adv_sets},
    {OP_LE(SIM_HCI_OCF_LE_REMOVE_ADV_SET), 1, 0, CLS_EXT, c_le_remove_adv_set},
    {OP_LE(SIM_HCI_OCF_LE_CLEAR_ADV_SETS), 0, 0, CLS_EXT, c_le_clear_adv_sets},
    {OP_LE(SIM_HCI_OCF_LE_SET_EXT_SCAN_PARAMS), -1, 0, CLS_EXT, c_le_set_ext_scan_params},
    {OP_LE(SIM_HCI_OCF_LE_SET_EXT_SCAN_ENABLE), 6, 0, CLS_EXT, c_le_set_ext_scan_enable},
};

/* Minimum lengths of the variable-length commands, so handlers can read their headers. */
static size_t min_len(uint16_t op)
{
	switch (op) {
	case OP_LE(SIM_HCI_OCF_LE_SET_EXT_ADV_DATA):
		return 4;
	case OP_LE(SIM_HCI_OCF_LE_SET_EXT_ADV_ENABLE):
		return 2;
	case OP_LE(SIM_HCI_OCF_LE_SET_EXT_SCAN_PARAMS):
		return 3;
	default:
		return 0;
	}
}

void sim_hci_run_command(struct sim_hci_ctrl *c, const struct pending *pc, uint64_t now)
{
	const struct cmd_def *d = NULL;
	struct cmd_ctx x = {.c = c, .p = pc->p, .n = pc->len, .now = now};
	uint8_t st;

	count_op(c, pc->op);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i].op == pc->op) {
			d = &cmds[i];
		}
	}
	if (d && d->cls == CLS_EXT && c->profile != SIM_HCI_EXTENDED) {
		d = NULL;
	}
	if (!d) {
		/* Unknown HCI Command: answered with Command Status, as BlueZ and Zephyr do. */
		c->n.command_errors++;
		cmd_status(c, pc->op, HCI_UNKNOWN_COMMAND);
		return;
	}
	if (c->hw_error && d->fn != c_reset) {
		st = HCI_COMMAND_DISALLOWED; /* after a Hardware Error only Reset is accepted */
	} else if (d->len >= 0 ? pc->len != (size_t)d->len : pc->len < min_len(pc->op)) {
		st = HCI_INVALID_PARAMETERS;
	} else if ((d->cls == CLS_LEGACY && c->mode == MODE_EXT) ||
		   (d->cls == CLS_EXT && c->mode == MODE_LEGACY)) {
		/* Core Vol 4 Part E §3.1.1: no mixing of legacy and extended commands. */
		st = HCI_COMMAND_DISALLOWED;
	} else {
		if (c->profile == SIM_HCI_EXTENDED && d->cls != CLS_ANY) {
			c->mode = d->cls == CLS_LEGACY ? MODE_LEGACY : MODE_EXT;
		}
		st = d->fn(&x);
	}
	if (st) {
		c->n.command_errors++;
		memset(x.rp, 0, sizeof(x.rp));
	}
	cmd_complete(c, pc->op, st, x.rp, d->rp_len);
}
