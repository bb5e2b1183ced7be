#include <criterion/criterion.h>
#include <errno.h>

#include "mesh/rpl.h"

/* A first message is accepted; after recording it, the same and older SEQs are replays (§3.9.8). */
Test(rpl, s3_9_8_replay_and_older_rejected)
{
	struct mesh_rpl *rpl = mesh_rpl_new(4);
	uint32_t iv, seq;

	cr_assert_not_null(rpl);
	cr_assert_eq(mesh_rpl_check(rpl, 0x1201, 0x12345678, 6), 0);
	cr_assert_eq(mesh_rpl_update(rpl, 0x1201, 0x12345678, 6), 0);
	cr_assert_eq(mesh_rpl_check(rpl, 0x1201, 0x12345678, 6), -EALREADY);
	cr_assert_eq(mesh_rpl_check(rpl, 0x1201, 0x12345678, 5), -EALREADY);
	cr_assert_eq(mesh_rpl_check(rpl, 0x1201, 0x12345678, 7), 0);
	cr_assert_eq(mesh_rpl_get(rpl, 0x1201, &iv, &seq), 0);
	cr_assert_eq(iv, 0x12345678);
	cr_assert_eq(seq, 6);
	mesh_rpl_free(rpl);
}

/* A check alone never records anything: the entry moves only on update. */
Test(rpl, check_does_not_update)
{
	struct mesh_rpl *rpl = mesh_rpl_new(2);

	cr_assert_eq(mesh_rpl_check(rpl, 0x0003, 1, 100), 0);
	cr_assert_eq(mesh_rpl_count(rpl), 0);
	cr_assert_eq(mesh_rpl_get(rpl, 0x0003, NULL, NULL), -ENOENT);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0003, 1, 100), 0);
	cr_assert_eq(mesh_rpl_check(rpl, 0x0003, 1, 101), 0);
	cr_assert_eq(mesh_rpl_count(rpl), 1);
	mesh_rpl_free(rpl);
}

/* A newer IV Index with SEQ restarted is new; an older IV Index is a replay whatever its SEQ. */
Test(rpl, iv_index_change)
{
	struct mesh_rpl *rpl = mesh_rpl_new(2);

	cr_assert_eq(mesh_rpl_update(rpl, 0x0100, 0x12345677, 0xfffff0), 0);
	cr_assert_eq(mesh_rpl_check(rpl, 0x0100, 0x12345678, 0), 0);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0100, 0x12345678, 0), 0);
	cr_assert_eq(mesh_rpl_check(rpl, 0x0100, 0x12345677, 0xffffff), -EALREADY);
	cr_assert_eq(mesh_rpl_check(rpl, 0x0100, 0x12345678, 0), -EALREADY);
	cr_assert_eq(mesh_rpl_check(rpl, 0x0100, 0x12345678, 1), 0);
	mesh_rpl_free(rpl);
}

/* An update never moves an entry backwards, even if asked to. */
Test(rpl, update_keeps_newest)
{
	struct mesh_rpl *rpl = mesh_rpl_new(1);
	uint32_t iv, seq;

	cr_assert_eq(mesh_rpl_update(rpl, 0x0001, 5, 50), 0);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0001, 5, 40), 0);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0001, 4, 90), 0);
	cr_assert_eq(mesh_rpl_get(rpl, 0x0001, &iv, &seq), 0);
	cr_assert_eq(iv, 5);
	cr_assert_eq(seq, 50);
	mesh_rpl_free(rpl);
}

/* A full list refuses unknown sources (-ENOSPC, unchanged) but keeps serving known ones. */
Test(rpl, capacity_enospc)
{
	struct mesh_rpl *rpl = mesh_rpl_new(2);
	uint16_t src;
	uint32_t seq;

	cr_assert_eq(mesh_rpl_update(rpl, 0x0002, 0, 1), 0);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0001, 0, 1), 0);
	cr_assert_eq(mesh_rpl_check(rpl, 0x0003, 0, 1), -ENOSPC);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0003, 0, 1), -ENOSPC);
	cr_assert_eq(mesh_rpl_count(rpl), 2);
	cr_assert_eq(mesh_rpl_capacity(rpl), 2);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0002, 0, 2), 0);
	/* Entries come out in ascending source order. */
	cr_assert_eq(mesh_rpl_entry(rpl, 0, &src, NULL, &seq), 0);
	cr_assert_eq(src, 0x0001);
	cr_assert_eq(seq, 1);
	cr_assert_eq(mesh_rpl_entry(rpl, 1, &src, NULL, &seq), 0);
	cr_assert_eq(src, 0x0002);
	cr_assert_eq(seq, 2);
	cr_assert_eq(mesh_rpl_entry(rpl, 2, &src, NULL, &seq), -ENOENT);
	cr_assert_eq(mesh_rpl_remove(rpl, 0x0001), 0);
	cr_assert_eq(mesh_rpl_remove(rpl, 0x0001), -ENOENT);
	cr_assert_eq(mesh_rpl_check(rpl, 0x0003, 0, 1), 0);
	mesh_rpl_free(rpl);
}

/* Pruning after an IV Update drops only entries older than the oldest IV still accepted. */
Test(rpl, prune_old_iv)
{
	struct mesh_rpl *rpl = mesh_rpl_new(8);

	mesh_rpl_update(rpl, 0x0010, 7, 1);
	mesh_rpl_update(rpl, 0x0020, 8, 1);
	mesh_rpl_update(rpl, 0x0030, 6, 1);
	mesh_rpl_update(rpl, 0x0040, 9, 1);
	cr_assert_eq(mesh_rpl_prune(rpl, 8), 2);
	cr_assert_eq(mesh_rpl_count(rpl), 2);
	cr_assert_eq(mesh_rpl_get(rpl, 0x0010, NULL, NULL), -ENOENT);
	cr_assert_eq(mesh_rpl_get(rpl, 0x0020, NULL, NULL), 0);
	cr_assert_eq(mesh_rpl_get(rpl, 0x0040, NULL, NULL), 0);
	mesh_rpl_free(rpl);
}

/* Bad arguments are refused and leave the list empty. */
Test(rpl, invalid_arguments)
{
	struct mesh_rpl *rpl = mesh_rpl_new(2);

	cr_assert_null(mesh_rpl_new(0));
	cr_assert_eq(mesh_rpl_check(rpl, 0x0000, 0, 1), -EINVAL);
	cr_assert_eq(mesh_rpl_check(rpl, 0xc000, 0, 1), -EINVAL);
	cr_assert_eq(mesh_rpl_update(rpl, 0x8001, 0, 1), -EINVAL);
	cr_assert_eq(mesh_rpl_update(rpl, 0x0001, 0, 0x1000000), -EINVAL);
	cr_assert_eq(mesh_rpl_count(rpl), 0);
	mesh_rpl_free(rpl);
	mesh_rpl_free(NULL);
}

/*
 * Segmented messages: the PDU is checked against the pair, SeqAuth against the newest completed
 * SeqAuth, each on its own, so an unsegmented message newer than a SeqAuth does not refuse a
 * retransmission of that message on fresh SEQs.
 */
Test(rpl, segmented_pdu_and_seqauth)
{
	struct mesh_rpl *rpl = mesh_rpl_new(2);
	uint64_t iv = 7ull << 24;
	uint32_t siv, seq;

	cr_assert_eq(mesh_rpl_update(rpl, 0x0005, 7, 300), 0);
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0005, 7, 301, iv | 250), 0);
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0005, 7, 300, iv | 250), -EALREADY, "an old PDU");
	cr_assert_eq(mesh_rpl_update_seg(rpl, 0x0005, 7, 302, iv | 250), 0);
	cr_assert_eq(mesh_rpl_get(rpl, 0x0005, &siv, &seq), 0);
	cr_assert_eq(seq, 302);
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0005, 7, 303, iv | 250), -EALREADY, "same SeqAuth");
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0005, 7, 303, iv | 249), -EALREADY);
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0005, 7, 303, iv | 251), 0);
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0005, 8, 0, 8ull << 24), 0, "next IV Index");
	/* Unsegmented messages see only the pair; update_seg never moves either backwards. */
	cr_assert_eq(mesh_rpl_check(rpl, 0x0005, 7, 303), 0);
	cr_assert_eq(mesh_rpl_update_seg(rpl, 0x0005, 7, 290, iv | 200), 0);
	cr_assert_eq(mesh_rpl_get(rpl, 0x0005, &siv, &seq), 0);
	cr_assert_eq(seq, 302);
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0005, 7, 303, iv | 250), -EALREADY);
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x0009, 7, 1, iv | 1), 0, "unknown source, room");
	cr_assert_eq(mesh_rpl_check_seg(rpl, 0x8001, 7, 1, iv | 1), -EINVAL);
	mesh_rpl_free(rpl);
}
