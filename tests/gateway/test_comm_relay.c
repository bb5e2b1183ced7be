#include <criterion/criterion.h>
#include <errno.h>

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
	d[0] =
	    (struct gw_comm_dev){.addr = 0x0010, .server = true, .relays = true, .can_relay = true};
	d[1] =
	    (struct gw_comm_dev){.addr = 0x0020, .server = true, .relays = true, .can_relay = true};
	d[2] = (struct gw_comm_dev){.addr = 0x0030, .can_relay = true};
	d[3] = (struct gw_comm_dev){.addr = 0x0031, .can_relay = true};
	d[4] = (struct gw_comm_dev){.can_relay = true};
}

static void choose(const struct gw_comm_dev *d, size_t n, const struct gw_comm_heard *h, size_t nh,
		   size_t x, bool want_relay, uint8_t want_hops)
{
	bool relay = !want_relay;
	uint8_t hops = 0;

	cr_assert_eq(gw_comm_relay_choose(d, n, h, nh, x, &relay, &hops), 0);
	cr_expect_eq(relay, want_relay, "device %zu: relay %d", x, relay);
	cr_expect_eq(hops, want_hops, "device %zu: %u hops", x, hops);
}

/* Servers relay; leaves do not; hops follow the servers' chain. */
Test(comm_relay, corridor)
{
	struct gw_comm_dev d[5];

	corridor_devs(d);
	choose(d, 5, corridor, N_CORRIDOR, 0, true, 1);
	choose(d, 5, corridor, N_CORRIDOR, 1, true, 2);
	choose(d, 5, corridor, N_CORRIDOR, 2, false, 1);
	choose(d, 5, corridor, N_CORRIDOR, 3, false, 2);
	choose(d, 5, corridor, N_CORRIDOR, 4, false, 3);
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
	struct gw_comm_dev d[2] = {
	    {.addr = 0x0010, .server = true, .relays = true, .can_relay = true},
	    {.can_relay = true}};
	const struct gw_comm_heard h[] = {{0, 0x0000, -50}, {1, 0x0000, -90}, {1, 0x0010, -60}};

	choose(d, 2, h, 3, 1, false, 2);
}

/*
 * A leaf that alone connects a device nobody else reaches: the plan makes it
 * relay.  Gateway hears S (server) and B; only B's server... here the far
 * device F was heard only via B's address, as if B were a server that
 * stopped being one: the plan picks B because F needs it.
 */
Test(comm_relay, plan_picks_a_needed_leaf)
{
	struct gw_comm_dev d[3] = {{.addr = 0x0010, .can_relay = true},
				   {.addr = 0x0020, .can_relay = true, .relays = true},
				   {.can_relay = true}};
	const struct gw_comm_heard h[] = {{0, 0x0000, -50}, {1, 0x0000, -50}, {2, 0x0020, -60}};

	choose(d, 3, h, 3, 1, true, 1);
	choose(d, 3, h, 3, 0, false, 1);
	choose(d, 3, h, 3, 2, false, 2);
	/* Without the Relay feature a server does not relay either. */
	d[1].can_relay = false;
	d[1].server = true;
	choose(d, 3, h, 3, 1, false, 1);
}

Test(comm_relay, sightings_of_unknown_vias_and_bad_input)
{
	struct gw_comm_dev d[2] = {{.can_relay = true}, {.can_relay = true}};
	const struct gw_comm_heard h[] = {{0, 0x0000, -50}, {1, 0x0777, -50}, {7, 0x0000, -50}};
	bool relay;
	uint8_t hops;

	choose(d, 2, h, 3, 0, false, 1);
	choose(d, 2, h, 3, 1, false, GW_RELAY_PLAN_UNREACHED);
	cr_assert_eq(gw_comm_relay_choose(d, 2, h, 3, 2, &relay, &hops), -EINVAL);
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
	    {1, 0, 2},         {2, 2, 3},       {3, 3, 4},
	    {7, 7, 8},         {126, 126, 127}, {127, 127, 0xff},
	    {128, 0xff, 0xff}, {0, 0xff, 0xff}, {GW_RELAY_PLAN_UNREACHED, 0xff, 0xff},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(gw_comm_ttl_of(v[i].hops), v[i].ttl, "hops %u", v[i].hops);
		cr_assert_eq(gw_comm_default_ttl_of(v[i].hops), v[i].default_ttl, "hops %u",
			     v[i].hops);
	}
}
