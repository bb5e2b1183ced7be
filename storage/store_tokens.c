/*
 * REST API tokens.  Only the SHA-256 of a token is stored: the token is
 * 32 random octets (or more) chosen by `meshgw token create`, so a plain
 * hash is enough to make a stolen database useless for logging in, and a
 * lookup by hash needs no per-row salt.
 */
#include <errno.h>
#include <string.h>

#include "crypto/sec.h"
#include "storage/store_int.h"

static const char *const role_names[] = {
    [STORE_ROLE_VIEWER] = "viewer",
    [STORE_ROLE_OPERATOR] = "operator",
    [STORE_ROLE_ADMIN] = "admin",
};

int store_token_hash(const char *token, uint8_t hash[STORE_TOKEN_HASH_LEN])
{
	if (!token) {
		return -EINVAL;
	}
	return sec_sha256((const uint8_t *)token, strlen(token), hash);
}

int store_token_add(struct store *s, const char *name, enum store_role role,
		    const uint8_t hash[STORE_TOKEN_HASH_LEN])
{
	sqlite3_stmt *st;
	int rc;

	if (!name || !*name || strlen(name) >= STORE_NAME_MAX || !hash ||
	    (unsigned)role > STORE_ROLE_ADMIN) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "INSERT INTO tokens (name, role, hash, created_ms) VALUES (?, ?, ?, ?)");
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, role);
		store_bind_blob(st, 3, hash, STORE_TOKEN_HASH_LEN);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)store_now(s));
	}
	rc = store_run(s, st);
	if (rc == 0) {
		rc = store_audit(s, "token.add", "token %s (%s)", name, role_names[role]);
	}
	return store_txn_end(s, rc);
}

#define TOKEN_COLS "id, name, role, hash, created_ms, revoked_ms"

static int read_token(struct store *s, sqlite3_stmt *st, void *item)
{
	struct store_token *t = item;

	(void)s;
	*t = (struct store_token){0};
	t->id = (uint64_t)sqlite3_column_int64(st, 0);
	store_col_text(st, 1, t->name, sizeof(t->name));
	t->role = (enum store_role)sqlite3_column_int(st, 2);
	store_col_blob(st, 3, t->hash, sizeof(t->hash));
	t->created_ms = (uint64_t)sqlite3_column_int64(st, 4);
	t->revoked = sqlite3_column_type(st, 5) != SQLITE_NULL;
	t->revoked_ms = (uint64_t)sqlite3_column_int64(st, 5);
	return 0;
}

int store_token_find(struct store *s, const uint8_t hash[STORE_TOKEN_HASH_LEN],
		     struct store_token *out)
{
	sqlite3_stmt *st = store_q(s, "SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?");
	int rc;

	if (!hash) {
		return -EINVAL;
	}
	if (st) {
		store_bind_blob(st, 1, hash, STORE_TOKEN_HASH_LEN);
	}
	rc = store_row(s, st);
	if (rc <= 0) {
		return rc ? rc : -ENOENT;
	}
	read_token(s, st, out);
	sqlite3_reset(st);
	return 0;
}

int store_token_revoke(struct store *s, const char *name)
{
	sqlite3_stmt *st;
	int rc;

	if (!name) {
		return -EINVAL;
	}
	rc = store_txn_begin(s);
	if (rc) {
		return rc;
	}
	st = store_q(s, "SELECT revoked_ms IS NOT NULL FROM tokens WHERE name = ?");
	if (st) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	}
	rc = store_row(s, st);
	if (rc == 0) {
		rc = -ENOENT;
	} else if (rc == 1) {
		rc = sqlite3_column_int(st, 0) ? -EALREADY : 0;
		sqlite3_reset(st);
	}
	if (rc == 0) {
		st = store_q(s, "UPDATE tokens SET revoked_ms = ? WHERE name = ?");
		if (st) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)store_now(s));
			sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		}
		rc = store_run(s, st);
	}
	if (rc == 0) {
		rc = store_audit(s, "token.revoke", "token %s", name);
	}
	return store_txn_end(s, rc);
}

int store_token_list(struct store *s, struct store_token **out, size_t *n)
{
	sqlite3_stmt *st = store_q(s, "SELECT " TOKEN_COLS " FROM tokens ORDER BY id");

	return store_collect(s, st, sizeof(**out), read_token, (void **)out, n);
}
