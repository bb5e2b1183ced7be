/*
 * The network row: mesh UUID, IV Index, the provisioner's own address and
 * ranges, and the persisted sequence number limit.
 */
#include <errno.h>

#include "storage/store_int.h"

#define SEQ_SPACE 0x1000000u /* 24-bit SEQ (§3.4.4.3) */

static bool unicast(uint32_t a)
{
	return a >= 0x0001 && a <= 0x7fff;
}

static bool group(uint32_t a)
{
	/* 0xff00..0xffff are fixed group addresses (§3.4.2.4), not allocatable. */
	return a >= 0xc000 && a <= 0xfeff;
}

static bool ranges_ok(uint16_t uni_low, uint16_t uni_high, uint16_t grp_low, uint16_t grp_high)
{
	return unicast(uni_low) && unicast(uni_high) && uni_low <= uni_high && group(grp_low) &&
	       group(grp_high) && grp_low <= grp_high;
}

int store_net_create(struct store *s, const struct store_network *net)
{
	sqlite3_stmt *st;
	uint64_t now = store_now(s);
	int rc;

	if (!net || !ranges_ok(net->uni_low, net->uni_high, net->grp_low, net->grp_high) ||
	    net->elements == 0 || !unicast(net->unicast) ||
	    !unicast((uint32_t)net->unicast + net->elements - 1u) || net->unicast < net->uni_low ||
	    net->unicast + net->elements - 1u > net->uni_high) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT INTO network (id, uuid, iv_index, iv_update, unicast, elements,"
			" uni_low, uni_high, grp_low, grp_high, seq_limit, created_ms, updated_ms)"
			" VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)");
	if (st) {
		store_bind_blob(st, 1, net->uuid, STORE_UUID_LEN);
		sqlite3_bind_int64(st, 2, net->iv_index);
		sqlite3_bind_int(st, 3, net->iv_update);
		sqlite3_bind_int(st, 4, net->unicast);
		sqlite3_bind_int(st, 5, net->elements);
		sqlite3_bind_int(st, 6, net->uni_low);
		sqlite3_bind_int(st, 7, net->uni_high);
		sqlite3_bind_int(st, 8, net->grp_low);
		sqlite3_bind_int(st, 9, net->grp_high);
		sqlite3_bind_int64(st, 10, (sqlite3_int64)now);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)now);
	}
	rc = store_run(s, st);
	if (rc == 0) {
		rc = store_audit(s, "network.create", "network");
	}
	return store_txn_end(s, rc);
}

int store_net_get(struct store *s, struct store_network *out)
{
	sqlite3_stmt *st;
	struct store_network n = {0};
	int rc;

	st = store_q(s, "SELECT uuid, iv_index, iv_update, unicast, elements, uni_low, uni_high,"
			" grp_low, grp_high, seq_limit, created_ms, updated_ms FROM network");
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	store_col_blob(st, 0, n.uuid, sizeof(n.uuid));
	n.iv_index = (uint32_t)sqlite3_column_int64(st, 1);
	n.iv_update = sqlite3_column_int(st, 2) != 0;
	n.unicast = (uint16_t)sqlite3_column_int(st, 3);
	n.elements = (uint8_t)sqlite3_column_int(st, 4);
	n.uni_low = (uint16_t)sqlite3_column_int(st, 5);
	n.uni_high = (uint16_t)sqlite3_column_int(st, 6);
	n.grp_low = (uint16_t)sqlite3_column_int(st, 7);
	n.grp_high = (uint16_t)sqlite3_column_int(st, 8);
	n.seq_limit = (uint32_t)sqlite3_column_int64(st, 9);
	n.created_ms = (uint64_t)sqlite3_column_int64(st, 10);
	n.updated_ms = (uint64_t)sqlite3_column_int64(st, 11);
	sqlite3_reset(st);
	*out = n;
	return 0;
}

/* Run an UPDATE of the network row; -ENOENT when there is none. */
static int update_net(struct store *s, sqlite3_stmt *st)
{
	int rc = store_run(s, st);

	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT;
	}
	return rc;
}

int store_net_iv_set(struct store *s, uint32_t iv_index, bool iv_update, bool seq_reset)
{
	sqlite3_stmt *st;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "UPDATE network SET iv_index = ?, iv_update = ?,"
			" seq_limit = CASE WHEN ? THEN 0 ELSE seq_limit END, updated_ms = ?");
	if (st) {
		sqlite3_bind_int64(st, 1, iv_index);
		sqlite3_bind_int(st, 2, iv_update);
		sqlite3_bind_int(st, 3, seq_reset);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)store_now(s));
	}
	rc = update_net(s, st);
	if (rc == 0) {
		rc = store_audit(s, "network.iv_set", "iv_index %u%s", (unsigned)iv_index,
				 iv_update ? " (update)" : "");
	}
	return store_txn_end(s, rc);
}

int store_net_ranges_set(struct store *s, uint16_t uni_low, uint16_t uni_high, uint16_t grp_low,
			 uint16_t grp_high)
{
	sqlite3_stmt *st;
	int rc;

	if (!ranges_ok(uni_low, uni_high, grp_low, grp_high)) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	/* The provisioner's own elements must stay inside its unicast range. */
	st = store_q(s, "UPDATE network SET uni_low = ?1, uni_high = ?2, grp_low = ?3,"
			" grp_high = ?4, updated_ms = ?5"
			" WHERE unicast >= ?1 AND unicast + elements - 1 <= ?2");
	if (st) {
		sqlite3_bind_int(st, 1, uni_low);
		sqlite3_bind_int(st, 2, uni_high);
		sqlite3_bind_int(st, 3, grp_low);
		sqlite3_bind_int(st, 4, grp_high);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)store_now(s));
	}
	rc = update_net(s, st);
	if (rc == -ENOENT) {
		struct store_network n;

		rc = store_net_get(s, &n) == 0 ? -EINVAL : -ENOENT;
	}
	if (rc == 0) {
		rc = store_audit(s, "network.ranges_set", "unicast %04x-%04x group %04x-%04x",
				 uni_low, uni_high, grp_low, grp_high);
	}
	return store_txn_end(s, rc);
}

int store_seq_reserve(struct store *s, uint32_t current, uint32_t block, uint32_t *limit)
{
	struct store_network n;
	sqlite3_stmt *st;
	uint64_t lim = 0;
	int rc;

	if (block == 0) {
		return -EINVAL;
	}
	if (current >= SEQ_SPACE) {
		return -ERANGE;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_net_get(s, &n);
	if (rc == 0) {
		/* Never move the limit backwards: numbers below it may have been used. */
		lim = (uint64_t)(current > n.seq_limit ? current : n.seq_limit) + block;
		if (lim > SEQ_SPACE) {
			lim = SEQ_SPACE;
		}
		st = store_q(s, "UPDATE network SET seq_limit = ?");
		if (st) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)lim);
		}
		rc = store_run(s, st);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0) {
		*limit = (uint32_t)lim;
	}
	return rc;
}
