/*
 * Reads that the HTTP worker threads answer themselves, without the event
 * loop (issue 15, "reads do not queue behind the radio"), and the table of
 * API tokens they check requests against.
 *
 * Inventory reads: each worker thread gets its own read-only handle on the
 * database (store_open_ro(), opened on the thread's first read and closed
 * when the thread exits or with gw_reads_free()).  WAL lets these reads run
 * beside the loop's writes; each answer is built from one snapshot, by the
 * same JSON builders as the loop's commands (gateway/nodes.h), so both paths
 * send the same bytes.  Only commands that read the inventory and nothing of
 * the stack's live state are served here; everything else goes through the
 * command queue.
 *
 * Tokens: only SHA-256 digests are kept (as in the database).  The table is
 * loaded from the loop's store at creation and kept in step by the loop's
 * token commands (gw_reads_token_added(), gw_reads_token_revoked()).  A
 * token created by `meshgw token create` while the daemon runs is not in the
 * table: a miss is looked up once in the database and, when found active,
 * added.  Every entry's digest is compared in constant time and the whole
 * table is always scanned, so the time of a check does not tell which entry
 * matched or how many digest octets did.
 *
 * Threading: every function may be called from any thread, concurrently,
 * except gw_reads_new() and gw_reads_free().
 */
#ifndef GW_READS_H
#define GW_READS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_reads;
struct store;

/*
 * Returns a new reader of the database at db_path, with the token table
 * loaded from st (the loop's store, borrowed for the call).  direct false:
 * gw_reads_serve() answers nothing (conf http_read_path = loop).  Free with
 * gw_reads_free().  NULL with *err on failure.
 */
struct gw_reads *gw_reads_new(const char *db_path, struct store *st, bool direct, int *err);
/* Closes every thread's handle.  The threads must not call in any more.  Accepts NULL. */
void gw_reads_free(struct gw_reads *r);

/*
 * Answers the command of type (enum gw_cmd_type) with args from the calling
 * thread's read-only handle: 0 and *result (a new reference: the response
 * body), a negative errno with a sentence in detail (cap bytes), or -ENOSYS
 * when the command is not served here (queue it for the loop instead).
 */
int gw_reads_serve(struct gw_reads *r, int type, const json_t *args, json_t **result, char *detail,
		   size_t cap);

/*
 * Checks a bearer token: 0 with its name (cap bytes) and role (0 viewer, 1
 * operator, 2 admin), or -EACCES for an unknown or revoked one.
 */
int gw_reads_token_check(struct gw_reads *r, const char *token, char *name, size_t cap, int *role);
/* Loop thread: a token was created (name, role, SHA-256 of the token). */
void gw_reads_token_added(struct gw_reads *r, const char *name, int role, const uint8_t hash[32]);
/* Loop thread: the token name was revoked; it is refused from now on. */
void gw_reads_token_revoked(struct gw_reads *r, const char *name);

#endif
