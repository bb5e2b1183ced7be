#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/manifest.h"

static const char *const profiles[] = {"all", "none", NULL};
static const struct mf_opts opts = {.profiles = profiles};

static struct mf *parse(enum mf_format f, const char *text)
{
	struct mf *m = NULL;

	cr_assert_eq(mf_parse(f, text, strlen(text), &opts, &m), 0);
	cr_assert_not_null(m);
	return m;
}

/* The error at index i has this row, field and a message containing what. */
static void expect_err(const struct mf *m, size_t i, uint32_t row, const char *field,
		       const char *what)
{
	cr_assert_lt(i, m->n_err, "only %zu errors", m->n_err);
	cr_assert_eq(m->errs[i].row, row, "error %zu: row %u (%s: %s)", i, m->errs[i].row,
		     m->errs[i].field, m->errs[i].msg);
	cr_assert_str_eq(m->errs[i].field, field, "error %zu: %s", i, m->errs[i].msg);
	cr_assert_not_null(strstr(m->errs[i].msg, what), "error %zu: \"%s\"", i, m->errs[i].msg);
}

/* Every auth method in CSV, with quoting, CRLF, a BOM and a blank line; the bytes come out. */
Test(manifest, csv_every_method)
{
	static const char text[] =
	    "\xef\xbb\xbfuuid,name,zone,auth,auth_value,auth_action,auth_size,profile,notes\r\n"
	    "00112233-4455-6677-8899-aabbccddeeff,\"Lamp, hall\",L1,none,,,,all,\r\n"
	    "\r\n"
	    "00112233445566778899AABBCCDDEE01,\"say \"\"hi\"\"\",L1,static,"
	    "000102030405060708090a0b0c0d0e0f,,,,\"two\r\nlines\"\r\n"
	    "00112233445566778899aabbccddee02,,,output,,blink,4,none,\n"
	    "00112233445566778899aabbccddee03,,,input, , numeric ,8,,\n"
	    "00112233445566778899aabbccddee04,,,oob_public_key,"
	    "f465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc"
	    "0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb279,,,,";
	struct mf *m = parse(MF_CSV, text);

	cr_assert_eq(m->n_err, 0, "%s: %s", m->n_err ? m->errs[0].field : "",
		     m->n_err ? m->errs[0].msg : "");
	cr_assert_eq(m->n_rows, 5);
	cr_assert_eq(m->rows[0].uuid[0], 0x00);
	cr_assert_eq(m->rows[0].uuid[15], 0xff);
	cr_assert_str_eq(m->rows[0].name, "Lamp, hall");
	cr_assert_str_eq(m->rows[0].profile, "all");
	cr_assert_eq(m->rows[0].line, 2);
	cr_assert_str_eq(m->rows[1].name, "say \"hi\"");
	cr_assert_eq(m->rows[1].line, 4);
	cr_assert_eq(m->rows[1].auth, MF_AUTH_STATIC);
	cr_assert_eq(m->rows[1].secret_len, 16);
	cr_assert_eq(m->rows[1].secret[15], 0x0f);
	cr_assert_str_eq(m->rows[1].notes, "two\r\nlines");
	cr_assert_eq(m->rows[2].line, 6, "a quoted line break counts as a line");
	cr_assert_eq(m->rows[2].auth, MF_AUTH_OUTPUT);
	cr_assert_str_eq(m->rows[2].action, "blink");
	cr_assert_eq(m->rows[2].size, 4);
	cr_assert_eq(m->rows[3].auth, MF_AUTH_INPUT);
	cr_assert_str_eq(m->rows[3].action, "numeric");
	cr_assert_eq(m->rows[4].auth, MF_AUTH_OOB_KEY);
	cr_assert_eq(m->rows[4].secret_len, 64);
	cr_assert_eq(m->rows[4].secret[0], 0xf4);
	cr_assert_eq(m->rows[4].secret[63], 0x79);
	mf_free(m);
}

/* certificate: the device's certificate authenticates it; a value, action or size is refused. */
Test(manifest, certificate_method)
{
	static const char text[] = "uuid,name,auth,auth_value,auth_action,auth_size\n"
				   "00112233445566778899aabbccddee05,lamp,certificate,,,\n"
				   "00112233445566778899aabbccddee06,lamp2,certificate,00ff,,\n";
	struct mf *m = parse(MF_CSV, text);
	json_t *o;

	cr_assert_eq(m->n_rows, 2);
	cr_assert_eq(m->rows[0].auth, MF_AUTH_CERT);
	cr_assert_eq(m->rows[0].secret_len, 0);
	cr_assert_eq(m->n_err, 1, "%zu errors", m->n_err);
	expect_err(m, 0, 2, "auth_value", "certificate");
	o = mf_row_json(&m->rows[0], true);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "auth"), "method")),
			 "certificate");
	cr_assert_null(json_object_get(json_object_get(o, "auth"), "static_oob"));
	json_decref(o);
	mf_free(m);
}

/* The same devices in JSON; the row's JSON leaves the secret out unless asked. */
Test(manifest, json_rows_and_secret_output)
{
	static const char text[] =
	    "{\"devices\": ["
	    "{\"uuid\": \"00112233445566778899aabbccddeeff\", \"name\": \"A\", \"zone\": \"Z\","
	    " \"auth\": {\"method\": \"static\", \"static_oob\":"
	    " \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"},"
	    " \"profile\": \"none\", \"notes\": \"n\"},"
	    "{\"uuid\": \"00112233-4455-6677-8899-aabbccddee01\","
	    " \"auth\": {\"method\": \"input\", \"action\": \"twist\", \"size\": 2}}]}";
	struct mf *m = parse(MF_JSON, text);
	json_t *o;
	char *s;

	cr_assert_eq(m->n_err, 0, "%s", m->n_err ? m->errs[0].msg : "");
	cr_assert_eq(m->n_rows, 2);
	cr_assert_eq(m->rows[0].secret_len, 32);
	cr_assert_eq(m->rows[1].size, 2);
	o = mf_row_json(&m->rows[0], false);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	cr_assert_str_eq(s, "{\"auth\":{\"method\":\"static\"},\"name\":\"A\",\"notes\":\"n\","
			    "\"profile\":\"none\",\"uuid\":\"00112233445566778899aabbccddeeff\","
			    "\"zone\":\"Z\"}");
	free(s);
	json_decref(o);
	o = mf_row_json(&m->rows[0], true);
	cr_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(o, "auth"), "static_oob")),
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	json_decref(o);
	o = mf_row_json(&m->rows[1], false);
	s = json_dumps(json_object_get(o, "auth"), JSON_SORT_KEYS | JSON_COMPACT);
	cr_assert_str_eq(s, "{\"action\":\"twist\",\"method\":\"input\",\"size\":2}");
	free(s);
	json_decref(o);
	mf_free(m);
}

/* Every kind of row error is reported, all of them, in row order, with the CSV line. */
Test(manifest, csv_all_errors_reported)
{
	static const char text[] =
	    "uuid,name,auth,auth_value,auth_action,auth_size,profile\n"
	    ",missing,none,,,,\n"                                               /* row 1 */
	    "00112233445566778899aabbccddeeff,ok,none,,,,\n"                    /* row 2 */
	    "00112233445566778899aabbccddeeff,dup,none,,,,\n"                   /* row 3 */
	    "0011223344556677889,short,none,,,,\n"                              /* row 4 */
	    "00112233445566778899aabbccddee05,badhex,static,0g,,,\n"            /* row 5 */
	    "00112233445566778899aabbccddee06,size,static,0011,,,\n"            /* row 6 */
	    "00112233445566778899aabbccddee07,key,oob_public_key,00112233,,,\n" /* row 7 */
	    "00112233445566778899aabbccddee08,,output,,wave,9,\n"               /* row 8 */
	    "00112233445566778899aabbccddee09,,none,00,push,1,\n"               /* row 9 */
	    "00112233445566778899aabbccddee0a,,magic,,,,\n"                     /* row 10 */
	    "00112233445566778899aabbccddee0b,,none,,,,office\n"                /* row 11 */
	    "00112233445566778899aabbccddee0c,,none,,,,bad profile\n"           /* row 12 */
	    "00112233445566778899aabbccddee0d,only three,none\n"                /* row 13 */
	    "00112233445566778899aabbccddee0e,x\"y,none,,,,\n"                  /* row 14 */
	    "00112233445566778899aabbccddee0f,\"a\"b,none,,,,\n"                /* row 15 */
	    "00112233445566778899aabbccddee10,\"\xc3\x28\",none,,,,\n"          /* row 16 */
	    "00112233445566778899aabbccddee12,pt,oob_public_key,"
	    "f465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc"
	    "0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb278,,,\n" /* row 17 */
	    "00112233445566778899aabbccddee11,\"never closed,none,,,,\nmore\n";     /* row 18 */
	struct mf *m = parse(MF_CSV, text);
	size_t i = 0;

	expect_err(m, i++, 1, "uuid", "missing uuid");
	expect_err(m, i++, 3, "uuid", "duplicate uuid: also on row 2");
	cr_assert_eq(m->errs[1].line, 4);
	expect_err(m, i++, 4, "uuid", "expected a UUID");
	expect_err(m, i++, 5, "auth_value", "not a hex digit at position 2");
	expect_err(m, i++, 6, "auth_value", "16 or 32 octets");
	expect_err(m, i++, 7, "auth_value", "64 octets (128 hex digits), got 8");
	expect_err(m, i++, 8, "auth_action", "expected blink");
	expect_err(m, i++, 8, "auth_size", "1 to 8");
	expect_err(m, i++, 9, "auth_value", "not used by auth method none");
	expect_err(m, i++, 9, "auth_action", "not used");
	expect_err(m, i++, 9, "auth_size", "not used");
	expect_err(m, i++, 10, "auth", "unknown method");
	expect_err(m, i++, 11, "profile", "unknown profile \"office\"");
	expect_err(m, i++, 12, "profile", "expected 1 to 32 characters");
	expect_err(m, i++, 13, "", "3 fields, the header has 7");
	expect_err(m, i++, 14, "", "a quote inside a field");
	expect_err(m, i++, 15, "", "text after the closing quote");
	expect_err(m, i++, 16, "name", "not UTF-8");
	expect_err(m, i++, 17, "auth_value", "not a P-256 point");
	expect_err(m, i++, 18, "", "a quoted field is not closed");
	cr_assert_eq(m->errs[i - 1].line, 19);
	cr_assert_eq(m->n_err, i, "unexpected error: row %u %s", m->errs[i].row, m->errs[i].msg);
	cr_assert_eq(m->n_err_total, m->n_err);
	mf_free(m);
}

/* Header problems are row 0 and stop the parse: nothing can be read without the columns. */
Test(manifest, csv_header_errors)
{
	struct mf *m = parse(MF_CSV, "name,colour,name\nx,y,z\n");

	expect_err(m, 0, 0, "header", "unknown column \"colour\"");
	expect_err(m, 1, 0, "header", "name appears twice");
	expect_err(m, 2, 0, "header", "no uuid column");
	cr_assert_eq(m->n_err, 3);
	cr_assert_eq(m->n_rows, 0);
	mf_free(m);

	m = parse(MF_CSV, "\n\r\n");
	expect_err(m, 0, 0, "header", "empty");
	mf_free(m);
}

/* A record over the row limit is one error, and the records after it are still read. */
Test(manifest, csv_row_too_long)
{
	size_t n = MF_MAX_ROW_BYTES + 200;
	char *text = malloc(n + 200);
	struct mf *m;
	int k;

	k = sprintf(text, "uuid,notes\n00112233445566778899aabbccddee01,");
	memset(text + k, 'a', n);
	sprintf(text + k + n, "\n00112233445566778899aabbccddee02,\"\"\n0011,x\n");
	m = parse(MF_CSV, text);
	expect_err(m, 0, 1, "", "longer than 2048 octets");
	expect_err(m, 1, 3, "uuid", "expected a UUID");
	cr_assert_eq(m->n_err, 2);
	cr_assert_eq(m->n_rows, 2);
	cr_assert_eq(m->rows[0].row, 2);
	mf_free(m);
	free(text);
}

/* JSON shape errors: all of a row's wrong members are named, other rows still checked. */
Test(manifest, json_errors)
{
	static const char text[] =
	    "{\"devices\": ["
	    "{\"uuid\": 5, \"colour\": \"red\"},"
	    "\"not an object\","
	    "{\"uuid\": \"00112233445566778899aabbccddeeff\", \"auth\": {\"method\": \"static\"}},"
	    "{\"uuid\": \"00112233445566778899aabbccddee01\","
	    " \"auth\": {\"method\": \"output\", \"action\": \"beep\", \"size\": \"4\"}},"
	    "{\"uuid\": \"00112233445566778899aabbccddee02\","
	    " \"auth\": {\"method\": \"oob_public_key\", \"public_key\": \"00\", \"pin\": 1}},"
	    "{\"uuid\": \"00112233445566778899aabbccddee03\", \"auth\": {}}"
	    "], \"extra\": 1}";
	struct mf *m = parse(MF_JSON, text);
	size_t i = 0;

	expect_err(m, i++, 0, "", "unknown member \"extra\"");
	expect_err(m, i++, 1, "uuid", "expected a string");
	expect_err(m, i++, 1, "", "unknown member \"colour\"");
	expect_err(m, i++, 2, "", "expected an object");
	expect_err(m, i++, 3, "auth.static_oob", "needs the static OOB value");
	expect_err(m, i++, 4, "auth.size", "expected an integer");
	expect_err(m, i++, 5, "auth", "unknown member \"pin\"");
	expect_err(m, i++, 6, "auth.method", "missing method");
	cr_assert_eq(m->n_err, i, "unexpected: row %u %s", m->errs[i].row, m->errs[i].msg);
	mf_free(m);

	m = parse(MF_JSON, "{\"devices\": [");
	expect_err(m, 0, 0, "", "malformed JSON");
	mf_free(m);
	m = parse(MF_JSON, "[]");
	expect_err(m, 0, 0, "", "expected an object");
	mf_free(m);
}

/* Without a profile list only the syntax is checked. */
Test(manifest, profiles_syntax_only)
{
	static const char text[] = "uuid,profile\n00112233445566778899aabbccddeeff,office-2.b\n";
	struct mf *m = NULL;

	cr_assert_eq(mf_parse(MF_CSV, text, strlen(text), NULL, &m), 0);
	cr_assert_eq(m->n_err, 0);
	cr_assert_str_eq(m->rows[0].profile, "office-2.b");
	mf_free(m);
}

/* Builds n CSV rows; bad rows (every 100th when bad) carry a wrong-size static value. */
static char *big_csv(size_t n, bool bad)
{
	char *text = malloc(64 + n * 128), *p = text;

	p += sprintf(p, "uuid,name,zone,auth,auth_value\n");
	for (size_t i = 0; i < n; i++) {
		bool broken = bad && i % 100 == 0;

		p += sprintf(p, "%032zx,dev %zu,floor %zu,static,%s\n", i + 1, i, i / 500,
			     broken ? "0011" : "000102030405060708090a0b0c0d0e0f");
	}
	return text;
}

/* 10,000 rows are accepted (the limit), 10,001 are refused as a whole. */
Test(manifest, ten_thousand_rows)
{
	char *text = big_csv(MF_MAX_ROWS, false);
	struct mf *m = parse(MF_CSV, text);

	cr_assert_eq(m->n_err, 0);
	cr_assert_eq(m->n_rows, MF_MAX_ROWS);
	cr_assert_eq(m->rows[MF_MAX_ROWS - 1].uuid[15], MF_MAX_ROWS & 0xff);
	cr_assert_eq(m->rows[MF_MAX_ROWS - 1].uuid[14], MF_MAX_ROWS >> 8);
	mf_free(m);
	free(text);

	text = big_csv(MF_MAX_ROWS + 1, false);
	m = parse(MF_CSV, text);
	expect_err(m, 0, 0, "", "more than 10000 rows");
	cr_assert_eq(m->n_err, 1);
	mf_free(m);
	free(text);
}

/* 100 bad rows among 10,000: all 100 are reported, each with its row. */
Test(manifest, hundred_bad_rows)
{
	char *text = big_csv(MF_MAX_ROWS, true);
	struct mf *m = parse(MF_CSV, text);

	cr_assert_eq(m->n_err, 100);
	for (size_t i = 0; i < 100; i++) {
		expect_err(m, i, (uint32_t)(i * 100 + 1), "auth_value", "got 4 hex digits");
		cr_assert_eq(m->errs[i].line, i * 100 + 2);
	}
	mf_free(m);
	free(text);
}

/* Errors past MF_MAX_ERRORS are counted and summed up in a last one. */
Test(manifest, error_cap)
{
	size_t n = MF_MAX_ROWS;
	char *text = malloc(16 + n * 8), *p = text;
	struct mf *m;

	p += sprintf(p, "uuid,zone\n");
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "x,\x01\n"); /* two errors a row */
	}
	m = parse(MF_CSV, text);
	cr_assert_eq(m->n_err_total, 2 * n);
	cr_assert_eq(m->n_err, MF_MAX_ERRORS);
	expect_err(m, MF_MAX_ERRORS - 1, 0, "", "10001 more errors not listed");
	mf_free(m);
	free(text);
}

/* Bytes that are neither format still give a result, never a crash (the fuzz target's job). */
Test(manifest, garbage)
{
	static const char bin[] = {'"', 0, '\r', '"', '"', ',', '\n', (char)0xff, '"'};
	struct mf *m = NULL;

	cr_assert_eq(mf_parse(MF_CSV, bin, sizeof(bin), &opts, &m), 0);
	cr_assert_gt(m->n_err, 0);
	mf_free(m);
	cr_assert_eq(mf_parse(MF_JSON, bin, sizeof(bin), &opts, &m), 0);
	expect_err(m, 0, 0, "", "malformed JSON");
	mf_free(m);
}
