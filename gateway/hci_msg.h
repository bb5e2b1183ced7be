/*
 * HCI message codec (Core spec v5.4 Vol 4 Part E §5.4 packet formats, §7
 * commands and events; Vol 4 Part A §2 the H4 packet indicator): pure
 * functions over byte buffers, no I/O, no clock.  Encoders write one whole
 * H4 command packet (indicator 0x01, opcode, length, parameters); decoders
 * take one whole H4 event packet (indicator 0x04 first) and validate every
 * length before they read, so they can be fed untrusted bytes.
 *
 * Numbers shared with libbluetooth (OGF/OCF, event codes, packet indicators)
 * come from <bluetooth/hci.h>; the extended advertising commands and events
 * of Core 5.0, which that header lacks, are defined here with an HCI_MSG_
 * prefix.
 *
 * Prefix hci_msg_ (codec) and hci_h4_ (the incremental H4 stream reader).
 */
#ifndef GW_HCI_MSG_H
#define GW_HCI_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetooth/bluetooth.h>
#include <bluetooth/hci.h>

/* LE Controller commands of Core 5.0 (OGF 0x08), absent from <bluetooth/hci.h>. */
#define HCI_MSG_OCF_LE_SET_ADV_SET_RANDOM_ADDR 0x0035
#define HCI_MSG_OCF_LE_SET_EXT_ADV_PARAMS 0x0036
#define HCI_MSG_OCF_LE_SET_EXT_ADV_DATA 0x0037
#define HCI_MSG_OCF_LE_SET_EXT_ADV_ENABLE 0x0039
#define HCI_MSG_OCF_LE_READ_NUM_ADV_SETS 0x003B
#define HCI_MSG_OCF_LE_CLEAR_ADV_SETS 0x003D
#define HCI_MSG_OCF_LE_SET_EXT_SCAN_PARAMS 0x0041
#define HCI_MSG_OCF_LE_SET_EXT_SCAN_ENABLE 0x0042

/* LE Meta subevents of Core 5.0 (§7.7.65.13, §7.7.65.18). */
#define HCI_MSG_EVT_LE_EXT_ADV_REPORT 0x0D
#define HCI_MSG_EVT_LE_ADV_SET_TERMINATED 0x12

#define HCI_MSG_OP(ogf, ocf) cmd_opcode_pack(ogf, ocf)

/* Largest H4 packet the driver ever handles: an event (1 + 2 + 255). */
#define HCI_MSG_EVT_MAX (1 + HCI_EVENT_HDR_SIZE + 255)
/* Largest command packet: indicator, opcode, length, 255 parameter octets. */
#define HCI_MSG_CMD_MAX (1 + 3 + 255)
/* Legacy advertising data: at most 31 octets (§7.8.7). */
#define HCI_MSG_ADV_DATA_MAX 31

/* One encoded command.  Plain value: copy freely. */
struct hci_msg_cmd {
	uint16_t opcode;
	size_t len; /* bytes used in buf, the whole H4 packet */
	uint8_t buf[HCI_MSG_CMD_MAX];
};

/* Parameters of LE Set Extended Advertising Parameters the driver varies. */
struct hci_msg_ext_adv_params {
	uint8_t handle;
	uint16_t props;        /* Advertising_Event_Properties; 0x0010 = legacy ADV_NONCONN_IND */
	uint32_t interval;     /* 0.625 ms units, min = max */
	uint8_t own_addr_type; /* 0x01 random */
	uint8_t sid;
};

/* One set of LE Set Extended Advertising Enable. */
struct hci_msg_ext_adv_set {
	uint8_t handle;
	uint16_t duration;  /* 10 ms units, 0 = none */
	uint8_t max_events; /* 0 = none */
};

/*
 * Command encoders.  Each fills *out with a whole H4 packet; those returning
 * int give 0, or -EINVAL for an argument out of range (*out then unusable).
 */
void hci_msg_reset(struct hci_msg_cmd *out);
void hci_msg_read_local_version(struct hci_msg_cmd *out);
void hci_msg_read_local_commands(struct hci_msg_cmd *out);
void hci_msg_set_event_mask(struct hci_msg_cmd *out, uint64_t mask);
void hci_msg_le_set_event_mask(struct hci_msg_cmd *out, uint64_t mask);
void hci_msg_le_read_local_features(struct hci_msg_cmd *out);
void hci_msg_le_rand(struct hci_msg_cmd *out);
void hci_msg_le_set_random_addr(struct hci_msg_cmd *out, const uint8_t addr[6]);
/* Legacy ADV_NONCONN_IND, own address random, all three channels. */
int hci_msg_le_set_adv_params(struct hci_msg_cmd *out, uint16_t interval);
/* Always 32 parameter octets: length, then data padded with zeros. */
int hci_msg_le_set_adv_data(struct hci_msg_cmd *out, const uint8_t *data, size_t len);
void hci_msg_le_set_adv_enable(struct hci_msg_cmd *out, bool enable);
/* Passive scan, own address public, no filter policy. */
void hci_msg_le_set_scan_params(struct hci_msg_cmd *out, uint16_t interval, uint16_t window);
void hci_msg_le_set_scan_enable(struct hci_msg_cmd *out, bool enable, bool filter_dup);
void hci_msg_le_set_adv_set_random_addr(struct hci_msg_cmd *out, uint8_t handle,
					const uint8_t addr[6]);
int hci_msg_le_set_ext_adv_params(struct hci_msg_cmd *out, const struct hci_msg_ext_adv_params *p);
/* Operation "complete data", no fragmentation preferred. */
int hci_msg_le_set_ext_adv_data(struct hci_msg_cmd *out, uint8_t handle, const uint8_t *data,
				size_t len);
int hci_msg_le_set_ext_adv_enable(struct hci_msg_cmd *out, bool enable,
				  const struct hci_msg_ext_adv_set *sets, size_t n);
void hci_msg_le_read_num_adv_sets(struct hci_msg_cmd *out);
void hci_msg_le_clear_adv_sets(struct hci_msg_cmd *out);
/* Passive scan on the 1M PHY. */
void hci_msg_le_set_ext_scan_params(struct hci_msg_cmd *out, uint16_t interval, uint16_t window);
void hci_msg_le_set_ext_scan_enable(struct hci_msg_cmd *out, bool enable, bool filter_dup);

/* "LE Set Advertising Data" for an opcode: a name for traces, "?" if unknown. */
const char *hci_msg_opcode_name(uint16_t opcode);
/* Length of the return parameters on success (status included), -1 if not in the table. */
int hci_msg_return_len(uint16_t opcode);

/* --- Events ------------------------------------------------------------------ */

enum hci_msg_evt_kind {
	HCI_MSG_CMD_COMPLETE,
	HCI_MSG_CMD_STATUS,
	HCI_MSG_HW_ERROR,
	HCI_MSG_LE_ADV_REPORT, /* legacy or extended: reports[] */
	HCI_MSG_LE_ADV_SET_TERMINATED,
	HCI_MSG_OTHER, /* well-formed but of no interest to the driver */
};

#define HCI_MSG_REPORTS_MAX 25 /* 255 octets hold at most 25 legacy reports */

struct hci_msg_report {
	uint16_t event_type; /* legacy: the 1-octet type; extended: the properties */
	uint8_t addr_type;
	uint8_t addr[6];
	int8_t rssi;
	const uint8_t *data; /* borrowed from the event buffer */
	uint8_t data_len;
};

/* A decoded event; pointers borrow from the buffer given to hci_msg_evt_decode(). */
struct hci_msg_evt {
	enum hci_msg_evt_kind kind;
	uint8_t code;     /* event code */
	uint8_t subevent; /* LE Meta subevent, or 0 */
	union {
		struct {
			uint8_t ncmd;
			uint16_t opcode;
			uint8_t status;     /* first return parameter, 0 if none */
			const uint8_t *ret; /* return parameters, status included */
			size_t ret_len;
		} cc;
		struct {
			uint8_t status;
			uint8_t ncmd;
			uint16_t opcode;
		} cs;
		uint8_t hw_code;
		struct {
			bool extended;
			size_t n;
			struct hci_msg_report r[HCI_MSG_REPORTS_MAX];
		} adv;
		struct {
			uint8_t status;
			uint8_t handle;
			uint16_t conn;
			uint8_t completed;
		} term;
	} u;
};

/*
 * Decodes one H4 event packet (pkt[0] == HCI_EVENT_PKT).  Returns 0 and
 * fills *e, or -EBADMSG when the packet is malformed (lengths disagree,
 * report counts lie, data runs past the end); *e is then unspecified.
 * Command Complete return parameters of a known opcode are checked against
 * hci_msg_return_len() when the status is success.
 */
int hci_msg_evt_decode(const uint8_t *pkt, size_t len, struct hci_msg_evt *e);

/* Return parameters of Command Complete, decoded. */
struct hci_msg_local_version {
	uint8_t hci_version;
	uint16_t hci_revision;
	uint8_t lmp_version;
	uint16_t manufacturer;
	uint16_t lmp_subversion;
};
/* Each returns 0, or -EBADMSG when ret is too short or the status is not 0. */
int hci_msg_rp_local_version(const struct hci_msg_evt *e, struct hci_msg_local_version *v);
int hci_msg_rp_local_commands(const struct hci_msg_evt *e, uint8_t cmds[64]);
int hci_msg_rp_le_features(const struct hci_msg_evt *e, uint8_t feat[8]);
int hci_msg_rp_le_rand(const struct hci_msg_evt *e, uint8_t rnd[8]);
int hci_msg_rp_num_adv_sets(const struct hci_msg_evt *e, uint8_t *n);

/*
 * Walks the AD structures of advertising data (Core Supplement Part A §1):
 * calls cb for each non-empty structure; a zero length octet ends the data
 * (the rest is padding).  Returns 0, or -EBADMSG when a structure runs past
 * the end (the structures before it were delivered).
 */
typedef void (*hci_msg_ad_cb)(void *ctx, uint8_t type, const uint8_t *data, size_t len);
int hci_msg_ad_walk(const uint8_t *data, size_t len, hci_msg_ad_cb cb, void *ctx);

/* --- H4 stream reader (for byte streams: a UART) ------------------------------ */

/*
 * Incremental and bounds-checked: bytes go in in any split, whole packets
 * come out.  Events are delivered (indicator first); ACL (0x02), SCO (0x03)
 * and ISO (0x05) packets are skipped by their length headers; any other
 * indicator is a framing error.  Caller-allocated: hci_h4_init().
 */
struct hci_h4_rx {
	uint8_t
	    buf[1 + 4 + 255]; /* indicator, the longest header (ACL/ISO 4), body kept for events */
	size_t have;          /* octets of the current packet seen */
	size_t need;          /* total octets of the current packet once known, else 0 */
	size_t hdr;           /* header length of the current packet type */
	bool deliver;         /* event: kept and delivered; others: skipped */
};

typedef void (*hci_h4_cb)(void *ctx, const uint8_t *pkt, size_t len);

void hci_h4_init(struct hci_h4_rx *rx);
/*
 * Feeds len bytes; cb gets each whole event packet (borrowed for the call).
 * Returns 0, or -EBADMSG on an unknown indicator (the reader is reset; the
 * caller should treat the stream as desynchronised).
 */
int hci_h4_feed(struct hci_h4_rx *rx, const uint8_t *data, size_t len, hci_h4_cb cb, void *ctx);
/* True when no packet is partly received. */
bool hci_h4_idle(const struct hci_h4_rx *rx);

#endif
