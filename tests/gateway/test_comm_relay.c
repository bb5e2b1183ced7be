#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "gateway/comm_relay.h"

/*
 * A corridor as a commission sees it: the gateway hears server S1 (0x0010)
 * and leaf L1; S1 heard server S2 (0x0020) and leaves L1, L2; S2 heard L2
 * and L3 (not provisioned yet).  Device indices: 0 S1, 1 S2, 2 L1, 3 L2,
 * 4 L3.
 */
static const struct gw_comm_heard corridor[] = {
    {0, 0x0000, -50}, {2, 0x0000, -60}, {1, 0x0010, -55}, {2, 0x0010, -50},
    {3, 0x0010, -62}, {3, 0x0020, -52}, {4, 0x0020, -58},
};
#define N_CORRIDOR (sizeof(corridor) / sizeof(corridor[0]))

static void corridor_devs(struct gw_comm_dev d[5])
{
	d[0] = (struct gw_comm_dev){.addr = 0x0010, .relays = true, .can_relay = true};
	d[1] = (struct gw_comm_dev){.addr = 0x0020, .relays = true, .can_relay = true};
	d[2] = (struct gw_comm_dev){.addr = 0x0030, .can_relay = true};
	d[3] = (struct gw_comm_dev){.addr = 0x0031, .can_relay = true};
	d[4] = (struct gw_comm_dev){.can_relay = true};
}

static void choose(const struct gw_comm_dev *d, size_t n, const struct gw_comm_heard *h, size_t nh,
		   size_t x, bool want_relay, uint8_t want_hops)
{
	bool relay = !want_relay;
	uint8_t hops = 0;

	cr_assert_eq(gw_comm_relay_choose(d, n, h, nh, x, &relay, &hops, NULL), 0);
	cr_expect_eq(relay, want_relay, "device %zu: relay %d", x, relay);
	cr_expect_eq(hops, want_hops, "device %zu: %u hops", x, hops);
}

/* The plan's relay set as a bit mask of device indices (n <= 32). */
static uint32_t wanted(const struct gw_comm_dev *d, size_t n, const struct gw_comm_heard *h,
		       size_t nh)
{
	bool want[32], relay;
	uint8_t hops;
	uint32_t mask = 0;

	memset(want, 0xa5, sizeof(want));
	cr_assert_eq(gw_comm_relay_choose(d, n, h, nh, 0, &relay, &hops, want), 0);
	for (size_t i = 0; i < n; i++) {
		mask |= want[i] ? 1u << i : 0;
	}
	cr_assert_eq(relay, want[0]);
	return mask;
}

/* The servers that carry the corridor relay; leaves do not; hops follow the chain. */
Test(comm_relay, corridor)
{
	struct gw_comm_dev d[5];

	corridor_devs(d);
	choose(d, 5, corridor, N_CORRIDOR, 0, true, 1);
	choose(d, 5, corridor, N_CORRIDOR, 1, true, 2);
	choose(d, 5, corridor, N_CORRIDOR, 2, false, 1);
	choose(d, 5, corridor, N_CORRIDOR, 3, false, 2);
	choose(d, 5, corridor, N_CORRIDOR, 4, false, 3);
	cr_expect_eq(wanted(d, 5, corridor, N_CORRIDOR), 0x3u);
}

/*
 * A server at the end of the corridor that has heard nobody yet is a leaf:
 * relay off.  Its scan then shows a device only it hears: the plan wants it
 * relaying again (the caller switches it back on), and L3 is 3 hops away
 * once it does.
 */
Test(comm_relay, leaf_server_off_then_needed)
{
	struct gw_comm_dev d[5];
	const size_t before = N_CORRIDOR - 2; /* without S2's reports of L2 and L3 */

	corridor_devs(d);
	d[1].relays = false;
	choose(d, 5, corridor, before, 1, false, 2);
	cr_expect_eq(wanted(d, 5, corridor, before), 0x1u, "S1 alone relays");
	cr_expect_eq(wanted(d, 5, corridor, N_CORRIDOR), 0x3u, "S2 needed again");
	choose(d, 5, corridor, N_CORRIDOR, 1, true, 2);
	/* Until S2 says it relays, no known path reaches L3. */
	choose(d, 5, corridor, N_CORRIDOR, 4, false, GW_RELAY_PLAN_UNREACHED);
	d[1].relays = true;
	choose(d, 5, corridor, N_CORRIDOR, 4, false, 3);
}

/* gw - A - B - C - D, all servers, each hearing the next: A, B, C relay, D does not. */
Test(comm_relay, chain_keeps_its_interior)
{
	struct gw_comm_dev d[4] = {{.addr = 0x0010, .can_relay = true},
				   {.addr = 0x0020, .can_relay = true},
				   {.addr = 0x0030, .can_relay = true},
				   {.addr = 0x0040, .can_relay = true}};
	const struct gw_comm_heard h[] = {
	    {0, 0x0000, -60}, {1, 0x0010, -60}, {2, 0x0020, -60}, {3, 0x0030, -60}};

	cr_expect_eq(wanted(d, 4, h, 4), 0x7u);
	choose(d, 4, h, 4, 3, false, GW_RELAY_PLAN_UNREACHED);
	d[0].relays = d[1].relays = d[2].relays = true;
	choose(d, 4, h, 4, 3, false, 4);
	choose(d, 4, h, 4, 2, true, 3);
}

/*
 * A building deeper than relay_plan's default horizon (10 hops): a chain of
 * 16 servers, each heard by the one before.  The plan wants every interior
 * server relaying, the last one included once it heard a device, and the
 * far end is 16 hops away through them.  Before the job planned past 10
 * hops, the servers beyond were left out of the plan and never switched
 * back on, and the far end was unreachable.
 */
Test(comm_relay, chain_deeper_than_ten_hops)
{
	enum {
		N = 17
	};
	struct gw_comm_dev d[N];
	struct gw_comm_heard h[N];
	bool want[N], relay;
	uint8_t hops;

	for (size_t i = 0; i < N; i++) {
		d[i] = (struct gw_comm_dev){.addr = (uint16_t)(0x0100 + i), .can_relay = true};
		h[i] = (struct gw_comm_heard){(uint32_t)i, i ? (uint16_t)(0x0100 + i - 1) : 0x0000,
					      -60};
	}
	d[N - 1].addr = 0; /* the device at the far end, not provisioned yet */
	cr_assert_eq(gw_comm_relay_choose(d, N, h, N, N - 1, &relay, &hops, want), 0);
	for (size_t i = 0; i < N - 1; i++) {
		cr_expect(want[i], "server %zu (%zu hops) is not in the plan", i, i + 1);
	}
	cr_expect_not(want[N - 1]);
	cr_expect_eq(hops, GW_RELAY_PLAN_UNREACHED); /* nobody relays yet */
	for (size_t i = 0; i < N - 1; i++) {
		d[i].relays = true;
	}
	choose(d, N, h, N, N - 1, false, N);
	choose(d, N, h, N, 11, true, 12);
}

/*
 * Two servers the gateway hears, both hearing L: the plan takes the
 * stronger, unless the other relays already (kept: the set only grows).
 */
Test(comm_relay, relays_already_on_are_kept)
{
	struct gw_comm_dev d[3] = {{.addr = 0x0010, .can_relay = true},
				   {.addr = 0x0020, .can_relay = true},
				   {.can_relay = true}};
	const struct gw_comm_heard h[] = {
	    {0, 0x0000, -50}, {1, 0x0000, -50}, {2, 0x0010, -70}, {2, 0x0020, -55}};

	cr_expect_eq(wanted(d, 3, h, 4), 0x2u);
	d[0].relays = true;
	cr_expect_eq(wanted(d, 3, h, 4), 0x1u);
	/* Kept even where nobody needs it: the gateway hears every device. */
	cr_expect_eq(wanted(d, 3, h, 2), 0x1u);
	/* Without the Relay feature it is not kept. */
	d[0].can_relay = false;
	cr_expect_eq(wanted(d, 3, h, 4), 0x2u);
}

/* A path only counts through nodes that relay now: S2 not yet configured puts L3 out of reach. */
Test(comm_relay, hops_only_through_relaying_nodes)
{
	struct gw_comm_dev d[5];

	corridor_devs(d);
	d[1].relays = false;
	choose(d, 5, corridor, N_CORRIDOR, 4, false, GW_RELAY_PLAN_UNREACHED);
	/* S1 off too: only the gateway's neighbours are reached. */
	d[0].relays = false;
	choose(d, 5, corridor, N_CORRIDOR, 3, false, GW_RELAY_PLAN_UNREACHED);
	choose(d, 5, corridor, N_CORRIDOR, 2, false, 1);
}

/* A link under the plan's threshold (-85 dBm) is not relied on for hops. */
Test(comm_relay, weak_links_ignored)
{
	struct gw_comm_dev d[2] = {{.addr = 0x0010, .relays = true, .can_relay = true},
				   {.can_relay = true}};
	const struct gw_comm_heard h[] = {{0, 0x0000, -50}, {1, 0x0000, -90}, {1, 0x0010, -60}};

	choose(d, 2, h, 3, 1, false, 2);
}

/*
 * A node that alone connects a device nobody else reaches: the plan makes
 * it relay, and not its neighbour the gateway hears as well.
 */
Test(comm_relay, plan_picks_a_needed_node)
{
	struct gw_comm_dev d[3] = {{.addr = 0x0010, .can_relay = true},
				   {.addr = 0x0020, .can_relay = true, .relays = true},
				   {.can_relay = true}};
	const struct gw_comm_heard h[] = {{0, 0x0000, -50}, {1, 0x0000, -50}, {2, 0x0020, -60}};

	choose(d, 3, h, 3, 1, true, 1);
	choose(d, 3, h, 3, 0, false, 1);
	choose(d, 3, h, 3, 2, false, 2);
	/* Without the Relay feature it is not planned to relay. */
	d[1].can_relay = false;
	d[1].relays = false;
	choose(d, 3, h, 3, 1, false, 1);
	choose(d, 3, h, 3, 2, false, GW_RELAY_PLAN_UNREACHED);
}

Test(comm_relay, sightings_of_unknown_vias_and_bad_input)
{
	struct gw_comm_dev d[2] = {{.can_relay = true}, {.can_relay = true}};
	const struct gw_comm_heard h[] = {{0, 0x0000, -50}, {1, 0x0777, -50}, {7, 0x0000, -50}};
	bool relay;
	uint8_t hops;

	choose(d, 2, h, 3, 0, false, 1);
	choose(d, 2, h, 3, 1, false, GW_RELAY_PLAN_UNREACHED);
	cr_assert_eq(gw_comm_relay_choose(d, 2, h, 3, 2, &relay, &hops, NULL), -EINVAL);
}

/*
 * From the gateway (§3.4.5.2): TTL 0 for a neighbour, never 1, hops beyond.  The node's
 * Default TTL (§4.2.7): hops plus one of margin, never 1, at most 127.  0xff: unknown, the
 * Default TTL stays.
 */
Test(comm_relay, ttls_of_hops)
{
	static const struct {
		uint8_t hops, ttl, default_ttl;
	} v[] = {
	    {1, 0, 2},         {2, 3, 3},       {3, 4, 4},
	    {7, 8, 8},         {126, 127, 127}, {127, 0xff, 0xff},
	    {128, 0xff, 0xff}, {0, 0xff, 0xff}, {GW_RELAY_PLAN_UNREACHED, 0xff, 0xff},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(gw_comm_ttl_of(v[i].hops), v[i].ttl, "hops %u", v[i].hops);
		cr_assert_eq(gw_comm_default_ttl_of(v[i].hops), v[i].default_ttl, "hops %u",
			     v[i].hops);
	}
}
