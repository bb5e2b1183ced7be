#include <errno.h>

#include "storage/store_zone.h"
#include "tests/storage/fixture.h"

static struct fx f;

static void setup(void)
{
	fx_init(&f);
}

static void teardown(void)
{
	fx_fini(&f);
}

/* Zones get the lowest free group of the range, in order, and keep it across a reopen. */
Test(store_zone, allocates_lowest_free_group, .init = setup, .fini = teardown)
{
	struct store_zone a, b, c, got;

	cr_assert_eq(store_zone_create(f.s, "hall", 0xc010, 0xc0ff, &a), 0);
	cr_assert_eq(store_zone_create(f.s, "office", 0xc010, 0xc0ff, &b), 0);
	cr_assert_eq(a.group, 0xc010);
	cr_assert_eq(b.group, 0xc011);
	cr_assert_str_eq(a.name, "hall");
	cr_assert_neq(a.id, b.id);
	cr_assert_eq(a.created_ms, f.now);

	/* A deleted zone's group is free again; the others keep theirs. */
	cr_assert_eq(store_zone_delete(f.s, a.id), 0);
	cr_assert_eq(store_zone_create(f.s, "lab", 0xc010, 0xc0ff, &c), 0);
	cr_assert_eq(c.group, 0xc010);
	cr_assert_eq(store_zone_get(f.s, a.id, &got), -ENOENT);

	fx_close(&f);
	fx_open(&f);
	cr_assert_eq(store_zone_find(f.s, "office", &got), 0);
	cr_assert_eq(got.id, b.id);
	cr_assert_eq(got.group, 0xc011);
}

/* Groups of an imported Mesh CDB are not handed out again. */
Test(store_zone, skips_cdb_groups, .init = setup, .fini = teardown)
{
	struct store_zone z;

	fx_sql(&f, "INSERT INTO cdb_groups (addr, name, parent) VALUES (49152, 'g0', 0),"
		   " (49153, 'g1', 0), (49155, 'g3', 0)");
	cr_assert_eq(store_zone_create(f.s, "a", 0xc000, 0xc0ff, &z), 0);
	cr_assert_eq(z.group, 0xc002);
	cr_assert_eq(store_zone_create(f.s, "b", 0xc000, 0xc0ff, &z), 0);
	cr_assert_eq(z.group, 0xc004);
}

/* Names are unique (create and rename); bad names and ranges are refused. */
Test(store_zone, names_unique_and_checked, .init = setup, .fini = teardown)
{
	struct store_zone a, b, got;
	struct store_zone *all = NULL;
	size_t n = 0;
	char long_name[STORE_NAME_MAX + 1];

	cr_assert_eq(store_zone_create(f.s, "hall", 0xc000, 0xc0ff, &a), 0);
	cr_assert_eq(store_zone_create(f.s, "hall", 0xc000, 0xc0ff, &b), -EEXIST);
	cr_assert_eq(store_zone_create(f.s, "desk", 0xc000, 0xc0ff, &b), 0);
	cr_assert_eq(store_zone_rename(f.s, b.id, "hall"), -EEXIST);
	cr_assert_eq(store_zone_rename(f.s, b.id, "desk"), 0, "its own name is fine");
	cr_assert_eq(store_zone_rename(f.s, b.id, "desks"), 0);
	cr_assert_eq(store_zone_rename(f.s, 999, "x"), -ENOENT);
	cr_assert_eq(store_zone_get(f.s, b.id, &got), 0);
	cr_assert_str_eq(got.name, "desks");

	memset(long_name, 'x', STORE_NAME_MAX);
	long_name[STORE_NAME_MAX] = '\0';
	cr_assert_eq(store_zone_create(f.s, long_name, 0xc000, 0xc0ff, &b), -EINVAL);
	long_name[STORE_NAME_MAX - 1] = '\0';
	cr_assert_eq(store_zone_create(f.s, long_name, 0xc000, 0xc0ff, &b), 0, "63 octets fit");
	cr_assert_eq(store_zone_create(f.s, "", 0xc000, 0xc0ff, &b), -EINVAL);
	cr_assert_eq(store_zone_rename(f.s, a.id, ""), -EINVAL);
	cr_assert_eq(store_zone_create(f.s, "u", 0x7fff, 0xc0ff, &b), -EINVAL, "unicast");
	cr_assert_eq(store_zone_create(f.s, "u", 0xc000, 0xff00, &b), -EINVAL, "fixed group");
	cr_assert_eq(store_zone_create(f.s, "u", 0xc001, 0xc000, &b), -EINVAL, "empty range");

	cr_assert_eq(store_zone_list(f.s, &all, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(all[0].name, "hall");
	free(all);
}

/* A full range fails with -ENOSPC and stores nothing. */
Test(store_zone, range_exhausted, .init = setup, .fini = teardown)
{
	struct store_zone z;
	struct store_zone *all = NULL;
	size_t n = 0;

	cr_assert_eq(store_zone_create(f.s, "a", 0xc100, 0xc101, &z), 0);
	cr_assert_eq(store_zone_create(f.s, "b", 0xc100, 0xc101, &z), 0);
	cr_assert_eq(z.group, 0xc101);
	cr_assert_eq(store_zone_create(f.s, "c", 0xc100, 0xc101, &z), -ENOSPC);
	cr_assert_eq(store_zone_find(f.s, "c", &z), -ENOENT);
	/* Another range still has room: the range is the caller's (the configuration's). */
	cr_assert_eq(store_zone_create(f.s, "c", 0xc100, 0xc102, &z), 0);
	cr_assert_eq(z.group, 0xc102);
	cr_assert_eq(store_zone_list(f.s, &all, &n), 0);
	cr_assert_eq(n, 3);
	free(all);
}

/*
 * Write-ahead membership: a move is pending until the node confirms it; prev_group is the last
 * confirmed zone's group even across a move that did not finish; a zone with nodes (or nodes
 * being moved in) is not deleted.
 */
Test(store_zone, membership_write_ahead, .init = setup, .fini = teardown)
{
	struct store_zone a, b;
	struct store_zone_member m;
	uint16_t *nodes = NULL;
	size_t n = 0;

	cr_assert_eq(fx_node(f.s, 0x0100, 2, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0110, 1, 2), 0);
	cr_assert_eq(store_zone_create(f.s, "a", 0xc000, 0xc0ff, &a), 0);
	cr_assert_eq(store_zone_create(f.s, "b", 0xc000, 0xc0ff, &b), 0);
	cr_assert_eq(store_zone_member_get(f.s, 0x0100, &m), -ENOENT);
	cr_assert_eq(store_zone_move_begin(f.s, 0x0200, a.id), -ENOENT, "no such node");
	cr_assert_eq(store_zone_move_begin(f.s, 0x0100, 77), -ENOENT, "no such zone");

	cr_assert_eq(store_zone_move_begin(f.s, 0x0100, a.id), 0);
	cr_assert_eq(store_zone_member_get(f.s, 0x0100, &m), 0);
	cr_assert_eq(m.zone, a.id);
	cr_assert(m.pending);
	cr_assert_eq(m.prev_group, 0);
	cr_assert_eq(store_zone_delete(f.s, a.id), -EBUSY, "a node is being moved in");
	cr_assert_eq(store_zone_move_done(f.s, 0x0100, b.id), -ESTALE);
	cr_assert_eq(store_zone_move_done(f.s, 0x0100, a.id), 0);
	cr_assert_eq(store_zone_member_get(f.s, 0x0100, &m), 0);
	cr_assert_not(m.pending);
	cr_assert_eq(m.prev_group, a.group);

	/* To b, interrupted, then out of every zone: prev_group stays a's group. */
	cr_assert_eq(store_zone_move_begin(f.s, 0x0100, b.id), 0);
	cr_assert_eq(store_zone_nodes(f.s, b.id, &nodes, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(nodes[0], 0x0100);
	free(nodes);
	cr_assert_eq(store_zone_nodes(f.s, a.id, &nodes, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(store_zone_delete(f.s, a.id), 0, "nobody left in a");
	cr_assert_eq(store_zone_move_begin(f.s, 0x0100, 0), 0);
	cr_assert_eq(store_zone_member_get(f.s, 0x0100, &m), 0);
	cr_assert_eq(m.zone, 0);
	cr_assert(m.pending);
	cr_assert_eq(m.prev_group, a.group);
	cr_assert_eq(store_zone_move_done(f.s, 0x0100, 0), 0);
	cr_assert_eq(store_zone_member_get(f.s, 0x0100, &m), -ENOENT, "the row went");

	/* A removed node's membership is not listed and does not hold the zone. */
	cr_assert_eq(store_zone_move_begin(f.s, 0x0110, b.id), 0);
	cr_assert_eq(store_zone_move_done(f.s, 0x0110, b.id), 0);
	cr_assert_eq(store_node_remove(f.s, 0x0110), 0);
	cr_assert_eq(store_zone_member_get(f.s, 0x0110, &m), -ENOENT);
	cr_assert_eq(store_zone_delete(f.s, b.id), 0);
}

/* The zones of an address range in one read: active nodes only, by address, pending shown. */
Test(store_zone, places_of_a_range, .init = setup, .fini = teardown)
{
	struct store_zone a, b;
	struct store_zone_place *p = NULL;
	size_t n = 0;

	cr_assert_eq(fx_node(f.s, 0x0100, 2, 1), 0);
	cr_assert_eq(fx_node(f.s, 0x0110, 1, 2), 0);
	cr_assert_eq(fx_node(f.s, 0x0120, 1, 3), 0);
	cr_assert_eq(fx_node(f.s, 0x0130, 1, 4), 0);
	cr_assert_eq(store_zone_create(f.s, "a", 0xc000, 0xc0ff, &a), 0);
	cr_assert_eq(store_zone_create(f.s, "b", 0xc000, 0xc0ff, &b), 0);
	cr_assert_eq(store_zone_places(f.s, 0x0001, 0x7fff, &p, &n), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(p);

	cr_assert_eq(store_zone_move_begin(f.s, 0x0130, a.id), 0);
	cr_assert_eq(store_zone_move_done(f.s, 0x0130, a.id), 0);
	cr_assert_eq(store_zone_move_begin(f.s, 0x0100, b.id), 0);
	cr_assert_eq(store_zone_move_begin(f.s, 0x0120, a.id), 0);
	cr_assert_eq(store_zone_move_done(f.s, 0x0120, a.id), 0);
	cr_assert_eq(store_zone_move_begin(f.s, 0x0120, 0), 0, "leaving: no zone to show");
	cr_assert_eq(store_zone_places(f.s, 0x0100, 0x0130, &p, &n), 0);
	cr_assert_eq(n, 2);
	cr_assert_eq(p[0].node, 0x0100);
	cr_assert(p[0].pending);
	cr_assert_eq(p[0].zone.id, b.id);
	cr_assert_eq(p[0].zone.group, b.group);
	cr_assert_str_eq(p[0].zone.name, "b");
	cr_assert_eq(p[1].node, 0x0130);
	cr_assert_not(p[1].pending);
	cr_assert_eq(p[1].zone.id, a.id);
	free(p);
	cr_assert_eq(store_zone_places(f.s, 0x0101, 0x012f, &p, &n), 0);
	cr_assert_eq(n, 0, "the range bounds the read");
	free(p);

	cr_assert_eq(store_node_remove(f.s, 0x0130), 0);
	cr_assert_eq(store_zone_places(f.s, 0x0130, 0x0130, &p, &n), 0);
	cr_assert_eq(n, 0, "a removed node is in no zone");
	free(p);
}
