/*
 * Port framings (sim/port.c): the native framing's byte layout as
 * sim/PORTS.md documents it, round trips, the BlueZ unit framing, and
 * malformed datagrams (error and untouched output).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "sim/port.h"
#include "tests/util/tv.h"

static size_t hex(const char *h, uint8_t *out, size_t cap)
{
	int n = tv_hex(h, out, cap);

	cr_assert_geq(n, 0, "bad hex in test: %s", h);
	return (size_t)n;
}

/* Encodes m and checks the bytes, then decodes them back to the same fields. */
static void check_bytes(const struct sim_port_msg *m, const char *want_hex)
{
	uint8_t want[64], got[SIM_PORT_MSG_MAX];
	size_t wn = hex(want_hex, want, sizeof(want)), gn;
	struct sim_port_msg back;

	cr_assert_eq(sim_port_encode(m, got, sizeof(got), &gn), 0);
	cr_assert_eq(gn, wn, "length %zu, want %zu", gn, wn);
	cr_assert_arr_eq(got, want, wn, "got %s", tv_tohex(got, gn));
	cr_assert_eq(sim_port_decode(want, wn, &back), 0);
	cr_assert_eq(back.kind, m->kind);
	cr_assert_eq(back.x_mm, m->x_mm);
	cr_assert_eq(back.y_mm, m->y_mm);
	cr_assert_eq(back.z_mm, m->z_mm);
	cr_assert_str_eq(back.name, m->name);
	cr_assert_eq(back.pid, m->pid);
	cr_assert_eq(back.ad_type, m->ad_type);
	cr_assert_eq(back.count, m->count);
	cr_assert_eq(back.interval_ms, m->interval_ms);
	cr_assert_eq(back.rssi, m->rssi);
	cr_assert_eq(back.time_us, m->time_us);
	cr_assert_eq(back.len, m->len);
	cr_assert_arr_eq(back.data, m->data, m->len);
	cr_assert_eq(back.err, m->err);
	cr_assert_eq(back.err_kind, m->err_kind);
}

/* PORTS.md HELLO: version, kind, x/y/z as little-endian int32 millimetres, name length, name. */
Test(port, native_hello_layout)
{
	struct sim_port_msg m = {.kind = SIM_PORT_HELLO, .x_mm = 1000, .y_mm = -2000, .z_mm = 3000};

	strcpy(m.name, "gw");
	check_bytes(&m, "01 01 e8030000 30f8ffff b80b0000 02 6777");
}

/* PORTS.md WELCOME, MOVE, DETACH and ERROR layouts. */
Test(port, native_small_kinds_layout)
{
	struct sim_port_msg w = {.kind = SIM_PORT_WELCOME, .pid = 0x01020304};
	struct sim_port_msg mv = {.kind = SIM_PORT_MOVE, .x_mm = -1, .y_mm = 0, .z_mm = 256};
	struct sim_port_msg d = {.kind = SIM_PORT_DETACH};
	struct sim_port_msg e = {.kind = SIM_PORT_ERROR, .err = EBADMSG, .err_kind = 0x03};

	check_bytes(&w, "01 02 04030201");
	check_bytes(&mv, "01 06 ffffffff 00000000 00010000");
	check_bytes(&d, "01 05");
	check_bytes(&e, "01 07 4a 03"); /* EBADMSG is 74 on Linux */
}

/* PORTS.md ADV_TX: count, interval (LE16), AD type, data length, data. */
Test(port, native_adv_tx_layout)
{
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_TX,
				 .count = 3,
				 .interval_ms = 300,
				 .ad_type = 0x2b,
				 .len = 3,
				 .data = {0x00, 0xaa, 0xbb}};

	check_bytes(&m, "01 03 03 2c01 2b 03 00aabb");
}

/* PORTS.md ADV_RX: RSSI (int8), time in µs (LE64), AD type, data length, data. */
Test(port, native_adv_rx_layout)
{
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_RX,
				 .rssi = -70,
				 .time_us = 0x0102030405ULL,
				 .ad_type = 0x29,
				 .len = 2,
				 .data = {0x12, 0x34}};

	check_bytes(&m, "01 04 ba 0504030201000000 29 02 1234");
}

/* Largest messages: a 29-octet AD payload and a 32-character name fit SIM_PORT_MSG_MAX. */
Test(port, native_maximum_sizes)
{
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_RX, .ad_type = 0x2a, .len = 29};
	struct sim_port_msg h = {.kind = SIM_PORT_HELLO};
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t n;

	memset(m.data, 0x5a, sizeof(m.data));
	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &n), 0);
	cr_assert_eq(n, 2 + 1 + 8 + 2 + 29);
	memset(h.name, 'n', SIM_PORT_NAME_MAX);
	cr_assert_eq(sim_port_encode(&h, buf, sizeof(buf), &n), 0);
	cr_assert_eq(n, 2 + 12 + 1 + 32);
	cr_assert_eq(sim_port_encode(&h, buf, n - 1, &n), -ENOSPC);
}

/* Every malformed datagram is -EBADMSG and leaves the output untouched. */
Test(port, native_malformed)
{
	static const char *const bad[] = {
	    "",                                         /* empty */
	    "01",                                       /* no kind */
	    "02 05",                                    /* version 2 */
	    "01 00",                                    /* kind 0 */
	    "01 08",                                    /* unknown kind */
	    "01 05 00",                                 /* DETACH with a trailing octet */
	    "01 02 040302",                             /* truncated WELCOME */
	    "01 01 e8030000 30f8ffff b80b0000 00",      /* empty name */
	    "01 01 e8030000 30f8ffff b80b0000 03 6777", /* name shorter than its length */
	    "01 01 e8030000 30f8ffff b80b0000 02 670a", /* non-printable name */
	    "01 01 e8030000 30f8ffff b80b0000 21 "
	    "6161616161616161616161616161616161616161616161616161616161616161 61", /* 33 */
	    "01 01 e8030000 30f8ffff b80b00", /* truncated position */
	    "01 03 00 2c01 2b 01 00",         /* count 0 */
	    "01 03 41 2c01 2b 01 00",         /* count 65 */
	    "01 03 01 1127 2b 01 00",         /* interval 10001 ms */
	    "01 03 01 2c01 00 01 00",         /* AD type 0 */
	    "01 03 01 2c01 2b 1e "
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d", /* 30 octets */
	    "01 03 01 2c01 2b 02 00",         /* data shorter than its length */
	    "01 03 01 2c01 2b 01 00 00",      /* data longer than its length */
	    "01 04 ba 05040302010000 29 00",  /* truncated time */
	    "01 07 00 03",                    /* ERROR with errno 0 */
	    "01 07 4a",                       /* truncated ERROR */
	    "01 06 ffffffff 00000000 000100", /* truncated MOVE */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[80];
		size_t n = hex(bad[i], buf, sizeof(buf));
		struct sim_port_msg out, before;

		memset(&out, 0xa5, sizeof(out));
		before = out;
		cr_assert_eq(sim_port_decode(buf, n, &out), -EBADMSG, "case %zu: %s", i, bad[i]);
		cr_assert_arr_eq(&out, &before, sizeof(out), "case %zu changed the output", i);
	}
	cr_assert_eq(sim_port_decode(NULL, 0, &(struct sim_port_msg){0}), -EBADMSG);
}

/* Every proper prefix of a valid datagram is malformed. */
Test(port, native_truncations)
{
	uint8_t buf[64];
	size_t n = hex("01 04 ba 0504030201000000 29 02 1234", buf, sizeof(buf));
	struct sim_port_msg out;

	for (size_t k = 0; k < n; k++) {
		cr_assert_eq(sim_port_decode(buf, k, &out), -EBADMSG, "prefix %zu", k);
	}
	cr_assert_eq(sim_port_decode(buf, n, &out), 0);
}

/* The encoder refuses what the decoder would refuse. */
Test(port, native_encode_invalid)
{
	uint8_t buf[SIM_PORT_MSG_MAX];
	size_t n;
	struct sim_port_msg m = {.kind = SIM_PORT_ADV_TX, .count = 0, .ad_type = 0x2a};

	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m.count = 1;
	m.len = 30;
	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m.len = 1;
	m.ad_type = 0;
	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m = (struct sim_port_msg){.kind = SIM_PORT_HELLO};
	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &n), -EINVAL); /* empty name */
	m = (struct sim_port_msg){.kind = (enum sim_port_kind)9};
	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &n), -EINVAL);
	m = (struct sim_port_msg){.kind = SIM_PORT_ERROR};
	cr_assert_eq(sim_port_encode(&m, buf, sizeof(buf), &n), -EINVAL);
}

/*
 * bluez.md: the daemon sends [AD type][AD data]; here its Unprovisioned
 * Device beacon (layout in formats.md §3: type 0x00, UUID, OOB Information).
 */
Test(port, bluez_decode_beacon)
{
	uint8_t buf[64];
	size_t n = hex("2b 00 5f3a9c2e7b1d4e8fa1c3d5e7f9b2c4d6 0000", buf, sizeof(buf));
	struct sim_port_bluez_msg m;

	cr_assert_eq(sim_port_bluez_decode(buf, n, &m), 0);
	cr_assert_not(m.is_name);
	cr_assert_eq(m.ad_type, 0x2b);
	cr_assert_eq(m.len, 19);
	cr_assert_arr_eq(m.data, buf + 1, 19);
}

/* bluez.md: the reply to the 0x00 query is [0x00][name][NUL]. */
Test(port, bluez_decode_name)
{
	uint8_t buf[16];
	size_t n = hex("00 3a312e31 00", buf, sizeof(buf));
	struct sim_port_bluez_msg m;
	uint8_t q[4];
	size_t qn;

	cr_assert_eq(sim_port_bluez_decode(buf, n, &m), 0);
	cr_assert(m.is_name);
	cr_assert_str_eq(m.name, ":1.1");
	cr_assert_eq(sim_port_bluez_encode_query(q, sizeof(q), &qn), 0);
	cr_assert_eq(qn, 1);
	cr_assert_eq(q[0], 0x00);
	cr_assert_eq(sim_port_bluez_encode_query(q, 0, &qn), -ENOSPC);
}

/* bluez.md: meshsim sends [nonzero][AD type][AD data], at most 31 octets. */
Test(port, bluez_encode_rx)
{
	const uint8_t data[] = {0x01, 0x02, 0x03};
	uint8_t buf[40], big[30] = {0};
	size_t n;

	cr_assert_eq(sim_port_bluez_encode_rx(0x29, data, sizeof(data), buf, sizeof(buf), &n), 0);
	cr_assert_eq(n, 5);
	cr_assert_neq(buf[0], 0);
	cr_assert_eq(buf[1], 0x29);
	cr_assert_arr_eq(buf + 2, data, 3);
	cr_assert_eq(sim_port_bluez_encode_rx(0x29, big, 29, buf, sizeof(buf), &n), 0);
	cr_assert_eq(n, 31);
	cr_assert_eq(sim_port_bluez_encode_rx(0x29, big, 30, buf, sizeof(buf), &n), -EINVAL);
	cr_assert_eq(sim_port_bluez_encode_rx(0x00, data, 3, buf, sizeof(buf), &n), -EINVAL);
	cr_assert_eq(sim_port_bluez_encode_rx(0x29, data, 3, buf, 4, &n), -ENOSPC);
}

/* Malformed daemon datagrams are -EBADMSG with the output untouched. */
Test(port, bluez_malformed)
{
	static const char *const bad[] = {
	    "",              /* empty */
	    "00",            /* the query itself, not a reply */
	    "00 00",         /* empty name */
	    "00 3a31",       /* name without its NUL */
	    "00 3a00 31 00", /* NUL inside the name */
	    "00 3a0a 00",    /* non-printable name */
	    "2a 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d", /* 31 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t buf[64];
		size_t n = hex(bad[i], buf, sizeof(buf));
		struct sim_port_bluez_msg out, before;

		memset(&out, 0x5a, sizeof(out));
		before = out;
		cr_assert_eq(sim_port_bluez_decode(buf, n, &out), -EBADMSG, "case %zu", i);
		cr_assert_arr_eq(&out, &before, sizeof(out));
	}
}
