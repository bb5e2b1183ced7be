/*
 * Unicast address allocation, reservations for provisioning sessions, and
 * the exclusion list of addresses that removed nodes used.
 */
#include <errno.h>

#include "storage/store_int.h"

/* IV Index changes an exclusion must outlive; see store_addr_exclusions_purge() in store.h. */
#define EXCLUSION_IV_DISTANCE 2

int store_addr_alloc(struct store *s, uint8_t count, uint16_t *addr)
{
	struct store_network net;
	sqlite3_stmt *st;
	uint32_t cand;
	int rc;

	if (count == 0) {
		return -EINVAL;
	}
	rc = store_net_get(s, &net);
	if (rc) {
		return rc;
	}
	/* Sweep the occupied intervals in order; the first gap that fits wins. */
	st = store_q(s, "SELECT lo, hi FROM ("
			" SELECT unicast AS lo, unicast + elements - 1 AS hi FROM nodes"
			"  WHERE excluded = 0"
			" UNION ALL SELECT unicast, unicast + elements - 1 FROM network"
			" UNION ALL SELECT addr, addr + count - 1 FROM addr_exclusions"
			" UNION ALL SELECT addr, addr + count - 1 FROM addr_reservations)"
			" WHERE hi >= ?1 AND lo <= ?2 ORDER BY lo");
	if (st) {
		sqlite3_bind_int(st, 1, net.uni_low);
		sqlite3_bind_int(st, 2, net.uni_high);
	}
	cand = net.uni_low;
	while ((rc = store_row(s, st)) == 1) {
		uint32_t lo = (uint32_t)sqlite3_column_int(st, 0);
		uint32_t hi = (uint32_t)sqlite3_column_int(st, 1);

		if (lo > cand && lo - cand >= count) {
			sqlite3_reset(st);
			break;
		}
		if (hi + 1 > cand) {
			cand = hi + 1;
		}
	}
	if (rc < 0) {
		return rc;
	}
	if (cand + count - 1u > net.uni_high) {
		return -ENOSPC;
	}
	*addr = (uint16_t)cand;
	return 0;
}

int store_addr_reserve(struct store *s, uint8_t count, uint16_t *addr)
{
	sqlite3_stmt *st;
	uint16_t a = 0;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_addr_alloc(s, count, &a);
	if (rc == 0) {
		st = store_q(s, "INSERT INTO addr_reservations (addr, count, created_ms)"
				" VALUES (?, ?, ?)");
		if (st) {
			sqlite3_bind_int(st, 1, a);
			sqlite3_bind_int(st, 2, count);
			sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "addr.reserve", "0x%04x+%u", a, count);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0) {
		*addr = a;
	}
	return rc;
}

int store_reservation_consume(struct store *s, uint16_t addr)
{
	sqlite3_stmt *st = store_q(s, "DELETE FROM addr_reservations WHERE addr = ?");

	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	return store_run(s, st);
}

int store_addr_release(struct store *s, uint16_t addr)
{
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_reservation_consume(s, addr);
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = store_audit(s, "addr.release", "0x%04x", addr);
	}
	return store_txn_end(s, rc);
}

int store_exclude_range(struct store *s, uint16_t addr, uint8_t count)
{
	sqlite3_stmt *st;
	int rc;

	st = store_q(s, "INSERT INTO addr_exclusions (addr, count, iv_index, created_ms)"
			" SELECT ?, ?, iv_index, ? FROM network");
	if (st) {
		sqlite3_bind_int(st, 1, addr);
		sqlite3_bind_int(st, 2, count);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)store_now(s));
	}
	rc = store_run(s, st);
	if (rc == 0 && sqlite3_changes(s->db) == 0) {
		rc = -ENOENT; /* no network row yet */
	}
	return rc;
}

int store_addr_exclude(struct store *s, uint16_t addr, uint8_t count)
{
	int rc;

	if (count == 0 || addr == 0 || (uint32_t)addr + count - 1u > 0x7fff) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_exclude_range(s, addr, count);
	if (rc == 0) {
		rc = store_audit(s, "addr.exclude", "0x%04x+%u", addr, count);
	}
	return store_txn_end(s, rc);
}

/* Addresses that pending or active job targets hold (storage/store_job.h). */
#define HELD_BY_JOBS                                                                               \
	"SELECT t.addr FROM job_targets t JOIN jobs j ON j.id = t.job"                             \
	" WHERE t.addr != 0 AND t.state IN (0, 1) AND j.state IN (0, 1)"

int store_addr_reservations_recover(struct store *s, size_t *n)
{
	sqlite3_stmt *st;
	size_t moved = 0;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	/* A reservation an unfinished job target holds is that target's to resolve. */
	st = store_q(s, "INSERT INTO addr_exclusions (addr, count, iv_index, created_ms)"
			" SELECT r.addr, r.count, n.iv_index, ? FROM addr_reservations r, network n"
			" WHERE r.addr NOT IN (" HELD_BY_JOBS ")");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now(s));
	}
	rc = store_run(s, st);
	if (rc == 0) {
		moved = (size_t)sqlite3_changes(s->db);
		rc = store_run(s, store_q(s, "DELETE FROM addr_reservations"
					     " WHERE addr NOT IN (" HELD_BY_JOBS ")"));
	}
	if (rc == 0 && moved) {
		rc = store_audit(s, "addr.recover", "%zu reservations excluded", moved);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0 && n) {
		*n = moved;
	}
	return rc;
}

static int read_exclusion(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_addr_exclusion *e = item;

	(void)s;
	e->addr = (uint16_t)sqlite3_column_int(st, 0);
	e->count = (uint8_t)sqlite3_column_int(st, 1);
	e->iv_index = (uint32_t)sqlite3_column_int64(st, 2);
	return 0;
}

int store_addr_exclusions(struct store *s, struct store_addr_exclusion **out, size_t *n)
{
	sqlite3_stmt *st =
	    store_q(s, "SELECT addr, count, iv_index FROM addr_exclusions ORDER BY addr, id");

	return store_collect(s, st, sizeof(**out), read_exclusion, (void **)out, n);
}

int store_addr_exclusions_purge(struct store *s, uint32_t iv_index, size_t *n)
{
	sqlite3_stmt *st;
	size_t gone = 0;
	int rc;

	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "DELETE FROM addr_exclusions WHERE iv_index + ? <= ?");
	if (st) {
		sqlite3_bind_int(st, 1, EXCLUSION_IV_DISTANCE);
		sqlite3_bind_int64(st, 2, iv_index);
	}
	rc = store_run(s, st);
	if (rc == 0) {
		gone = (size_t)sqlite3_changes(s->db);
	}
	if (rc == 0 && gone) {
		rc = store_audit(s, "addr.purge", "%zu exclusions at iv_index %u", gone,
				 (unsigned)iv_index);
	}
	rc = store_txn_end(s, rc);
	if (rc == 0 && n) {
		*n = gone;
	}
	return rc;
}
