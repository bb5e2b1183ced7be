/*
 * Last scan results: Unprovisioned Device beacons (§3.9.2) seen locally or
 * reported by a Remote Provisioning Server.  Sightings are observations,
 * not changes, so they are not audited.
 */
#include <errno.h>

#include "storage/store_int.h"

int store_scan_put(struct store *s, const struct store_scan *rec)
{
	sqlite3_stmt *st;

	if (!rec) {
		return -EINVAL;
	}
	st = store_q(s, "INSERT INTO scan_results (uuid, via, oob, uri_hash, rssi, first_ms,"
			" last_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (uuid, via)"
			" DO UPDATE SET oob = ?3, uri_hash = ?4, rssi = ?5, last_ms = ?6");
	if (st) {
		store_bind_blob(st, 1, rec->uuid, STORE_UUID_LEN);
		sqlite3_bind_int(st, 2, rec->via);
		sqlite3_bind_int(st, 3, rec->oob);
		if (rec->has_uri_hash) {
			store_bind_blob(st, 4, rec->uri_hash, sizeof(rec->uri_hash));
		}
		sqlite3_bind_int(st, 5, rec->rssi);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)rec->last_ms);
	}
	return store_run(s, st);
}

static int read_scan(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_scan *r = item;

	(void)s;
	store_col_blob(st, 0, r->uuid, sizeof(r->uuid));
	r->via = (uint16_t)sqlite3_column_int(st, 1);
	r->oob = (uint16_t)sqlite3_column_int(st, 2);
	r->has_uri_hash = store_col_blob(st, 3, r->uri_hash, sizeof(r->uri_hash));
	r->rssi = (int8_t)sqlite3_column_int(st, 4);
	r->first_ms = (uint64_t)sqlite3_column_int64(st, 5);
	r->last_ms = (uint64_t)sqlite3_column_int64(st, 6);
	return 0;
}

int store_scan_list(struct store *s, uint64_t since_ms, struct store_scan **out, size_t *n)
{
	sqlite3_stmt *st;

	st = store_q(s, "SELECT uuid, via, oob, uri_hash, rssi, first_ms, last_ms"
			" FROM scan_results WHERE last_ms >= ? ORDER BY last_ms DESC, uuid, via");
	if (st) {
		sqlite3_bind_int64(st, 1, (sqlite3_int64)since_ms);
	}
	return store_collect(s, st, sizeof(**out), read_scan, (void **)out, n);
}

int store_scan_clear(struct store *s)
{
	return store_run(s, store_q(s, "DELETE FROM scan_results"));
}
