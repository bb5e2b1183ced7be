/*
 * Manifest figures: a 10,000-row manifest (every row with a 16-octet static
 * OOB value) parsed and checked as CSV and as JSON, the same CSV with 100 bad
 * rows, one whose rows all carry an OOB public key (checked on the curve), and the store's write of
 * the checked rows (sealing + one SQLite transaction), i.e. all a POST /api/v1/manifests does on
 * the loop thread. Baseline beside them: jansson alone loading and freeing the JSON body.  The
 * issue's budget is one second for the check; this prints figures only, it passes or fails nothing.
 * Run from a build directory.
 */
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gateway/manifest.h"
#include "storage/store_manifest.h"

#define ROWS MF_MAX_ROWS
#define RUNS 5

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A P-256 public key (every row the same: the check is what is timed). */
#define KEY                                                                                        \
	"f465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc"                         \
	"0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb279"

/* Static OOB rows (every 100th with a bad value when bad), or OOB public key rows. */
static char *make_csv(bool bad, bool keys)
{
	char *text = malloc(64 + ROWS * 256), *p = text;

	p += sprintf(p, "uuid,name,zone,auth,auth_value,profile,notes\r\n");
	for (size_t i = 0; i < ROWS; i++) {
		p += sprintf(p, "%032zx,\"Lamp %zu, floor %zu\",zone-%zu,%s,%s,all,\r\n", i + 1, i,
			     i / 500, i / 100, keys ? "oob_public_key" : "static",
			     keys                  ? KEY
			     : bad && i % 100 == 0 ? "0011"
						   : "000102030405060708090a0b0c0d0e0f");
	}
	return text;
}

static char *make_json(void)
{
	char *text = malloc(64 + ROWS * 200), *p = text;

	p += sprintf(p, "{\"devices\":[");
	for (size_t i = 0; i < ROWS; i++) {
		p += sprintf(p,
			     "%s{\"uuid\":\"%032zx\",\"name\":\"Lamp %zu, floor %zu\",\"zone\":"
			     "\"zone-%zu\",\"auth\":{\"method\":\"static\",\"static_oob\":"
			     "\"000102030405060708090a0b0c0d0e0f\"},\"profile\":\"all\"}",
			     i ? "," : "", i + 1, i, i / 500, i / 100);
	}
	sprintf(p, "]}");
	return text;
}

/* Best of RUNS parses; *out keeps the last result. */
static double time_parse(enum mf_format f, const char *text, struct mf **out)
{
	static const char *const profiles[] = {"all", "none", NULL};
	const struct mf_opts o = {.profiles = profiles};
	double best = 1e9;

	for (int r = 0; r < RUNS; r++) {
		struct mf *m = NULL;
		double t0 = now_ms(), t;

		if (mf_parse(f, text, strlen(text), &o, &m)) {
			fprintf(stderr, "mf_parse failed\n");
			exit(1);
		}
		t = now_ms() - t0;
		best = t < best ? t : best;
		if (r == RUNS - 1) {
			*out = m;
		} else {
			mf_free(m);
		}
	}
	return best;
}

static double time_store(const struct mf *m)
{
	char dir[] = "/tmp/meshgw-bench-XXXXXX", db[64], key[64];
	struct store_manifest_row *rows = calloc(m->n_rows, sizeof(*rows));
	char **texts = calloc(m->n_rows, sizeof(*texts));
	struct store *s;
	uint64_t id = 0;
	double t0, t = -1;
	int err = 0;

	if (!mkdtemp(dir)) {
		return -1;
	}
	snprintf(db, sizeof(db), "%s/inventory.db", dir);
	snprintf(key, sizeof(key), "%s/master.key", dir);
	s = store_open(db, key, &err);
	if (s) {
		t0 = now_ms();
		for (size_t i = 0; i < m->n_rows; i++) {
			json_t *o = mf_row_json(&m->rows[i], false);

			texts[i] = json_dumps(o, JSON_COMPACT);
			json_decref(o);
			memcpy(rows[i].uuid, m->rows[i].uuid, 16);
			rows[i].data = texts[i];
			rows[i].secret = m->rows[i].secret;
			rows[i].secret_len = m->rows[i].secret_len;
		}
		if (store_manifest_put(s, &id, "csv", rows, m->n_rows) == 0) {
			t = now_ms() - t0;
		}
		store_close(s);
	}
	for (size_t i = 0; i < m->n_rows; i++) {
		free(texts[i]);
	}
	free(texts);
	free(rows);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return t;
}

int main(void)
{
	char *csv = make_csv(false, false), *bad = make_csv(true, false), *js = make_json();
	char *keys = make_csv(false, true);
	struct mf *m_csv, *m_bad, *m_json, *m_keys;
	double t_csv, t_bad, t_json, t_keys, t_load = 1e9, t_store;

	t_csv = time_parse(MF_CSV, csv, &m_csv);
	t_bad = time_parse(MF_CSV, bad, &m_bad);
	t_keys = time_parse(MF_CSV, keys, &m_keys);
	t_json = time_parse(MF_JSON, js, &m_json);
	for (int r = 0; r < RUNS; r++) {
		double t0 = now_ms();
		json_t *doc = json_loadb(js, strlen(js), JSON_REJECT_DUPLICATES, NULL);
		double t;

		json_decref(doc);
		t = now_ms() - t0;
		t_load = t < t_load ? t : t_load;
	}
	t_store = time_store(m_csv);

	printf("manifest of %u rows (best of %d; budget for the check: 1000 ms)\n", ROWS, RUNS);
	printf("  %-40s %8.1f ms  (%zu octets, %zu rows, %zu errors)\n", "CSV parse + check", t_csv,
	       strlen(csv), m_csv->n_rows, m_csv->n_err);
	printf("  %-40s %8.1f ms  (%zu errors)\n", "CSV with 100 bad rows", t_bad, m_bad->n_err);
	printf("  %-40s %8.1f ms  (%zu errors; each key checked on P-256)\n",
	       "CSV, OOB public key rows", t_keys, m_keys->n_err);
	printf("  %-40s %8.1f ms  (%zu octets, %zu rows, %zu errors)\n", "JSON parse + check",
	       t_json, strlen(js), m_json->n_rows, m_json->n_err);
	printf("  %-40s %8.1f ms\n", "baseline: jansson load + free alone", t_load);
	printf("  %-40s %8.1f ms  (one run)\n", "store: seal + insert the 10,000 rows", t_store);
	mf_free(m_csv);
	mf_free(m_bad);
	mf_free(m_json);
	mf_free(m_keys);
	free(keys);
	free(csv);
	free(bad);
	free(js);
	return 0;
}
