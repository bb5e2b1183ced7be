/* Device certificates of nodes (store.h: store_node_cert_*). */
#include <errno.h>
#include <string.h>

#include "storage/store.h"
#include "storage/store_int.h"

int store_node_cert_set(struct store *s, uint16_t addr, const struct store_node_cert *c)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (!c || c->der_len == 0 || c->der_len > STORE_CERT_DER_MAX) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	rc = store_node_id(s, addr, &id);
	if (!rc) {
		st = store_q(s, "INSERT OR REPLACE INTO node_certs (node_id, der, subject, issuer,"
				" not_before, not_after, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			store_bind_blob(st, 2, c->der, c->der_len);
			sqlite3_bind_text(st, 3, c->subject, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, c->issuer, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 5, c->not_before);
			sqlite3_bind_int64(st, 6, c->not_after);
			store_bind_blob(st, 7, c->sha256, sizeof(c->sha256));
		}
		rc = store_run(s, st);
	}
	return store_txn_end(s, rc);
}

int store_node_cert_get(struct store *s, uint16_t addr, struct store_node_cert *c)
{
	sqlite3_stmt *st = store_q(s, "SELECT c.der, c.subject, c.issuer, c.not_before,"
				      " c.not_after, c.sha256 FROM node_certs c"
				      " JOIN nodes n ON n.id = c.node_id"
				      " WHERE n.unicast = ? AND n.excluded = 0");
	int rc, len;

	memset(c, 0, sizeof(*c));
	if (st) {
		sqlite3_bind_int(st, 1, addr);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	len = sqlite3_column_bytes(st, 0);
	if (len <= 0 || len > STORE_CERT_DER_MAX ||
	    !store_col_blob(st, 5, c->sha256, sizeof(c->sha256))) {
		sqlite3_reset(st);
		return -EUCLEAN;
	}
	memcpy(c->der, sqlite3_column_blob(st, 0), (size_t)len);
	c->der_len = (size_t)len;
	store_col_text(st, 1, c->subject, sizeof(c->subject));
	store_col_text(st, 2, c->issuer, sizeof(c->issuer));
	c->not_before = sqlite3_column_int64(st, 3);
	c->not_after = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	return 0;
}
