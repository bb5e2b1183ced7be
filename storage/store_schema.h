/*
 * The schema as an ordered list of migration steps.  Step i (0-based)
 * takes a database from user_version i to i + 1; store_open() applies the
 * missing steps, each in its own transaction together with the new
 * user_version, so a crash leaves the database at a whole version.
 *
 * Exposed (to storage/ and its tests only) so that a test can build a
 * database of an older version and check that store_open() migrates it.
 */
#ifndef STORAGE_STORE_SCHEMA_H
#define STORAGE_STORE_SCHEMA_H

#include <stddef.h>

struct store_migration {
	const char *what; /* one line for the audit log */
	const char *sql;  /* one or more statements */
};

extern const struct store_migration store_migrations[];
extern const size_t store_migrations_count;

#endif /* STORAGE_STORE_SCHEMA_H */
