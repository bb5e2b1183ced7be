#include "gateway/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto/sec.h"
#include "mesh/crypto.h"

/*
 * Both formats are reduced to the same nine cells per row (struct cells) and
 * checked by one function, so CSV and JSON accept exactly the same devices
 * and word their errors alike.  Nothing here trusts a length it did not
 * count: CSV records are copied into a fixed buffer with the bound checked
 * on every octet, JSON strings are measured with json_string_length().
 */

#define CSV_MAX_COLS 16u

enum cell_id {
	C_UUID,
	C_NAME,
	C_ZONE,
	C_AUTH,
	C_VALUE,
	C_ACTION,
	C_SIZE,
	C_PROFILE,
	C_NOTES,
	C_COUNT
};

/* CSV column names, also the field names of errors in CSV. */
static const char *const csv_names[C_COUNT] = {
    [C_UUID] = "uuid",      [C_NAME] = "name",        [C_ZONE] = "zone",
    [C_AUTH] = "auth",      [C_VALUE] = "auth_value", [C_ACTION] = "auth_action",
    [C_SIZE] = "auth_size", [C_PROFILE] = "profile",  [C_NOTES] = "notes",
};

/* Output and Input OOB actions as named in POST /api/v1/provisioning (§5.4.1.2 tables). */
static const char *const out_actions[] = {"blink",   "beep",         "vibrate",
					  "numeric", "alphanumeric", NULL};
static const char *const in_actions[] = {"push", "twist", "numeric", "alphanumeric", NULL};

static const char *const auth_names[] = {
    [MF_AUTH_NONE] = "none",   [MF_AUTH_STATIC] = "static",          [MF_AUTH_OUTPUT] = "output",
    [MF_AUTH_INPUT] = "input", [MF_AUTH_OOB_KEY] = "oob_public_key", [MF_AUTH_CERT] = "certificate",
};

struct cell {
	const char *p;
	size_t n;
	const char *field; /* name used in errors */
};

struct cells {
	struct cell c[C_COUNT];
};

/* Parser state beyond the result: an allocation failure ends the parse. */
struct ctx {
	struct mf *m;
	const struct mf_opts *o;
	size_t err_cap, row_cap;
	uint32_t seq; /* numbers errors in the order found */
	bool oom;
};

const char *mf_auth_name(enum mf_auth a)
{
	return (unsigned)a < sizeof(auth_names) / sizeof(auth_names[0]) ? auth_names[a] : "?";
}

/* Room for one more element in *arr (used of *cap taken); false (x->oom set) when out of memory. */
static bool grow(struct ctx *x, void **arr, size_t *cap, size_t used, size_t elem)
{
	size_t n = *cap ? *cap * 2 : 64;
	void *p;

	if (used < *cap) {
		return true;
	}
	p = realloc(*arr, n * elem);
	if (!p) {
		x->oom = true;
		return false;
	}
	*arr = p;
	*cap = n;
	return true;
}

__attribute__((format(printf, 5, 6))) static void
add_err(struct ctx *x, uint32_t row, uint32_t line, const char *field, const char *fmt, ...)
{
	struct mf *m = x->m;
	struct mf_err *e;
	va_list ap;

	m->n_err_total++;
	/* The last slot is kept for the "more errors" line written at the end. */
	if (m->n_err >= MF_MAX_ERRORS - 1 || x->oom) {
		return;
	}
	if (!grow(x, (void **)&m->errs, &x->err_cap, m->n_err, sizeof(*m->errs))) {
		return;
	}
	e = &m->errs[m->n_err++];
	e->seq = x->seq++;
	e->row = row;
	e->line = line;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* --- Cell checks --------------------------------------------------------- */

static int hexval(char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *p = c ? strchr(digits, tolower((unsigned char)c)) : NULL;

	return p ? (int)(p - digits) : -1;
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF); controls refused unless allowed. */
static bool text_ok(const char *s, size_t n, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i], need, cp;

		if (c < 0x80) {
			if ((c < 0x20 && !(multiline && (c == '\t' || c == '\n' || c == '\r'))) ||
			    c == 0x7f) {
				return false;
			}
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= need) {
			return false;
		}
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80) {
				return false;
			}
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			return false;
		}
		i += need + 1;
	}
	return true;
}

/* Leading and trailing blanks are dropped from keyword and hex cells (spreadsheets pad them). */
static struct cell trim(struct cell c)
{
	while (c.n && (c.p[0] == ' ' || c.p[0] == '\t')) {
		c.p++;
		c.n--;
	}
	while (c.n && (c.p[c.n - 1] == ' ' || c.p[c.n - 1] == '\t')) {
		c.n--;
	}
	return c;
}

static bool cell_is(struct cell c, const char *word)
{
	return c.n == strlen(word) && strncasecmp(c.p, word, c.n) == 0;
}

static int parse_uuid(struct cell c, uint8_t out[16])
{
	/* Positions of the dashes in the 36-character form (RFC 4122 §3). */
	static const size_t dash[] = {8, 13, 18, 23};
	size_t i, o = 0, d = 0;

	if (c.n != 32 && c.n != 36) {
		return -EINVAL;
	}
	for (i = 0; i < c.n; i++) {
		int hi, lo;

		if (c.n == 36 && d < 4 && i == dash[d]) {
			if (c.p[i] != '-') {
				return -EINVAL;
			}
			d++;
			continue;
		}
		hi = hexval(c.p[i]);
		lo = i + 1 < c.n ? hexval(c.p[i + 1]) : -1;
		if (hi < 0 || lo < 0 || o >= 16) {
			return -EINVAL;
		}
		out[o++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	return o == 16 ? 0 : -EINVAL;
}

/* Hex of one of the sizes in want[] (octets, 0-terminated) into out; error worded into msg. */
static bool parse_hex(struct cell c, const size_t *want, uint8_t *out, uint8_t *len, char *msg,
		      size_t cap, const char *what)
{
	size_t i, k;

	for (i = 0; i < c.n; i++) {
		if (hexval(c.p[i]) < 0) {
			snprintf(msg, cap, "%s: not a hex digit at position %zu", what, i + 1);
			return false;
		}
	}
	for (k = 0; want[k]; k++) {
		if (c.n == 2 * want[k]) {
			break;
		}
	}
	if (!want[k]) {
		snprintf(msg, cap, "%s must be %s, got %zu hex digits", what,
			 want[1] ? "16 or 32 octets (32 or 64 hex digits)"
				 : "64 octets (128 hex digits)",
			 c.n);
		return false;
	}
	for (i = 0; i < want[k]; i++) {
		out[i] = (uint8_t)(hexval(c.p[2 * i]) << 4 | hexval(c.p[2 * i + 1]));
	}
	*len = (uint8_t)want[k];
	return true;
}

static const char *find_word(const char *const *list, struct cell c)
{
	for (size_t i = 0; list[i]; i++) {
		if (cell_is(c, list[i])) {
			return list[i];
		}
	}
	return NULL;
}

static bool profile_syntax(struct cell c)
{
	if (c.n < 1 || c.n > MF_PROFILE_MAX) {
		return false;
	}
	for (size_t i = 0; i < c.n; i++) {
		char ch = c.p[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.')) {
			return false;
		}
	}
	return true;
}

/* A label (name, zone): copies it when valid. */
static void check_label(struct ctx *x, uint32_t row, uint32_t line, struct cell c, char *out)
{
	if (c.n > MF_NAME_MAX) {
		add_err(x, row, line, c.field, "longer than %u octets", MF_NAME_MAX);
	} else if (!text_ok(c.p, c.n, false)) {
		add_err(x, row, line, c.field, "not UTF-8 text without control characters");
	} else {
		memcpy(out, c.p, c.n);
		out[c.n] = '\0';
	}
}

static void check_auth(struct ctx *x, struct mf_row *r, uint32_t row, const struct cells *cs)
{
	static const size_t static_len[] = {16, 32, 0};
	static const size_t key_len[] = {64, 0};
	struct cell method = trim(cs->c[C_AUTH]), value = trim(cs->c[C_VALUE]);
	struct cell action = trim(cs->c[C_ACTION]), size = trim(cs->c[C_SIZE]);
	bool uses_value = false, uses_action = false;
	char msg[120];
	size_t i;

	r->auth = MF_AUTH_NONE;
	if (method.n) {
		for (i = 0; i < sizeof(auth_names) / sizeof(auth_names[0]); i++) {
			if (cell_is(method, auth_names[i])) {
				break;
			}
		}
		if (i == sizeof(auth_names) / sizeof(auth_names[0])) {
			add_err(x, row, r->line, method.field,
				"unknown method; expected none, static, output, input, "
				"oob_public_key or certificate");
			return;
		}
		r->auth = (enum mf_auth)i;
	}
	switch (r->auth) {
	case MF_AUTH_NONE:
	case MF_AUTH_CERT: /* the device's certificate authenticates it: no value, action, size */
		break;
	case MF_AUTH_STATIC:
	case MF_AUTH_OOB_KEY:
		uses_value = true;
		if (!value.n) {
			add_err(x, row, r->line, value.field, "%s needs %s", auth_names[r->auth],
				r->auth == MF_AUTH_STATIC ? "the static OOB value"
							  : "the device's public key");
		} else if (!parse_hex(value, r->auth == MF_AUTH_STATIC ? static_len : key_len,
				      r->secret, &r->secret_len, msg, sizeof(msg),
				      r->auth == MF_AUTH_STATIC ? "the static OOB value"
								: "the OOB public key")) {
			add_err(x, row, r->line, value.field, "%s", msg);
		} else if (r->auth == MF_AUTH_OOB_KEY && !mesh_crypto_p256_valid(r->secret)) {
			/* As POST /provisioning would refuse it: caught now, not on site. */
			add_err(x, row, r->line, value.field,
				"the OOB public key is not a P-256 point");
		}
		break;
	case MF_AUTH_OUTPUT:
	case MF_AUTH_INPUT:
		uses_action = true;
		r->action = find_word(r->auth == MF_AUTH_OUTPUT ? out_actions : in_actions, action);
		if (!r->action) {
			add_err(x, row, r->line, action.field, "%s",
				r->auth == MF_AUTH_OUTPUT
				    ? "expected blink, beep, vibrate, numeric or alphanumeric"
				    : "expected push, twist, numeric or alphanumeric");
		}
		/* Output/Input OOB Size: 1..8 digits or characters (§5.4.1.2). */
		if (size.n != 1 || size.p[0] < '1' || size.p[0] > '8') {
			add_err(x, row, r->line, size.field, "expected a size from 1 to 8");
		} else {
			r->size = (uint8_t)(size.p[0] - '0');
		}
		break;
	}
	if (!uses_value && value.n) {
		add_err(x, row, r->line, value.field, "not used by auth method %s",
			auth_names[r->auth]);
	}
	if (!uses_action && action.n) {
		add_err(x, row, r->line, action.field, "not used by auth method %s",
			auth_names[r->auth]);
	}
	if (!uses_action && size.n) {
		add_err(x, row, r->line, size.field, "not used by auth method %s",
			auth_names[r->auth]);
	}
}

/* Appends a row built from its cells; every problem of the row is reported. */
static void add_row(struct ctx *x, const struct cells *cs, uint32_t row, uint32_t line)
{
	struct mf *m = x->m;
	struct mf_row *r;
	struct cell c;

	if (!grow(x, (void **)&m->rows, &x->row_cap, m->n_rows, sizeof(*m->rows))) {
		return;
	}
	r = &m->rows[m->n_rows++];
	memset(r, 0, sizeof(*r));
	r->row = row;
	r->line = line;

	c = trim(cs->c[C_UUID]);
	if (!c.n) {
		add_err(x, row, line, c.field, "missing uuid");
	} else if (parse_uuid(c, r->uuid)) {
		add_err(x, row, line, c.field, "expected a UUID (32 hex digits, dashes optional)");
	} else {
		r->uuid_ok = true;
	}
	check_label(x, row, line, cs->c[C_NAME], r->name);
	check_label(x, row, line, cs->c[C_ZONE], r->zone);
	check_auth(x, r, row, cs);

	c = trim(cs->c[C_PROFILE]);
	if (c.n && !profile_syntax(c)) {
		add_err(x, row, line, c.field, "expected 1 to %u characters [A-Za-z0-9_.-]",
			MF_PROFILE_MAX);
	} else if (c.n && x->o && x->o->profiles && !find_word(x->o->profiles, c)) {
		add_err(x, row, line, c.field, "unknown profile \"%.*s\"", (int)c.n, c.p);
	} else if (c.n) {
		memcpy(r->profile, c.p, c.n);
		r->profile[c.n] = '\0';
	}

	c = cs->c[C_NOTES];
	if (c.n > MF_NOTES_MAX) {
		add_err(x, row, line, c.field, "longer than %u octets", MF_NOTES_MAX);
	} else if (!text_ok(c.p, c.n, true)) {
		add_err(x, row, line, c.field, "not UTF-8 text");
	} else if (c.n) {
		r->notes = strndup(c.p, c.n);
		if (!r->notes) {
			x->oom = true;
		}
	}
}

/* --- CSV (RFC 4180) ------------------------------------------------------ */

/* One record: its fields unescaped into buf, each as (off, len). */
struct rec {
	char buf[MF_MAX_ROW_BYTES];
	size_t used;
	size_t off[CSV_MAX_COLS], len[CSV_MAX_COLS];
	bool quoted[CSV_MAX_COLS];
	size_t nf;         /* fields seen (may exceed CSV_MAX_COLS: the rest are not kept) */
	bool too_long;     /* more than MF_MAX_ROW_BYTES octets of content */
	const char *error; /* the first syntax error of the record */
	uint32_t line;     /* where it starts */
};

struct csv {
	const char *p, *end;
	uint32_t line;
};

static void rec_put(struct rec *r, char ch)
{
	if (r->nf > CSV_MAX_COLS || r->too_long) {
		return;
	}
	if (r->used == sizeof(r->buf)) {
		r->too_long = true;
		return;
	}
	r->buf[r->used++] = ch;
	r->len[r->nf - 1]++;
}

static void rec_field(struct rec *r, bool quoted)
{
	r->nf++;
	if (r->nf <= CSV_MAX_COLS) {
		r->off[r->nf - 1] = r->used;
		r->len[r->nf - 1] = 0;
		r->quoted[r->nf - 1] = quoted;
	}
}

/* At a line break (CRLF or a lone LF): consume it and return true. */
static bool csv_eol(struct csv *c)
{
	if (c->p < c->end && *c->p == '\n') {
		c->p++;
	} else if (c->end - c->p >= 2 && c->p[0] == '\r' && c->p[1] == '\n') {
		c->p += 2;
	} else {
		return false;
	}
	c->line++;
	return true;
}

/*
 * Reads the next record into r: 1 when one was read, 0 at the end of the
 * input.  A syntax error is recorded in r->error and the record still ends
 * where RFC 4180 says it does, so the next one is read correctly.
 */
static int csv_next(struct csv *c, struct rec *r)
{
	if (c->p >= c->end) {
		return 0;
	}
	r->used = 0;
	r->nf = 0;
	r->too_long = false;
	r->error = NULL;
	r->line = c->line;
	for (;;) {
		bool quoted = c->p < c->end && *c->p == '"';

		rec_field(r, quoted);
		if (quoted) {
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					r->error = "a quoted field is not closed";
					return 1;
				}
				if (*c->p == '"') {
					if (c->end - c->p >= 2 && c->p[1] == '"') {
						rec_put(r, '"'); /* a doubled quote is one quote */
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n') {
					c->line++;
				}
				rec_put(r, *c->p++);
			}
			/* After the closing quote: a separator, a line break or the end. */
		}
		for (;;) {
			if (c->p >= c->end || csv_eol(c)) {
				return 1;
			}
			if (*c->p == ',') {
				c->p++;
				break;
			}
			if (!r->error) {
				r->error =
				    quoted ? "text after the closing quote of a field"
				    : *c->p == '"'
					? "a quote inside a field that does not start with one"
					: NULL;
			}
			rec_put(r, *c->p++);
		}
	}
}

static bool rec_blank(const struct rec *r)
{
	return r->nf == 1 && r->len[0] == 0 && !r->quoted[0] && !r->error;
}

static struct cell rec_cell(const struct rec *r, size_t col)
{
	struct cell c = {"", 0, NULL};

	if (col < r->nf && col < CSV_MAX_COLS) {
		c.p = r->buf + r->off[col];
		c.n = r->len[col];
	}
	return c;
}

/* Maps header columns to cells; false (errors reported) when the header is unusable. */
static bool csv_header(struct ctx *x, const struct rec *r, int map[CSV_MAX_COLS])
{
	bool seen[C_COUNT] = {false}, ok = true;

	if (r->error || r->too_long || r->nf > CSV_MAX_COLS) {
		add_err(x, 0, r->line, "header", "%s",
			r->error      ? r->error
			: r->too_long ? "the header is too long"
				      : "the header has more than 16 columns");
		return false;
	}
	for (size_t i = 0; i < r->nf; i++) {
		struct cell c = trim(rec_cell(r, i));
		int k;

		for (k = 0; k < C_COUNT; k++) {
			if (cell_is(c, csv_names[k])) {
				break;
			}
		}
		if (k == C_COUNT) {
			add_err(x, 0, r->line, "header",
				"column %zu: unknown column \"%.*s\"; expected uuid, name, zone, "
				"auth, auth_value, auth_action, auth_size, profile, notes",
				i + 1, (int)(c.n > 32 ? 32 : c.n), c.p);
			ok = false;
		} else if (seen[k]) {
			add_err(x, 0, r->line, "header", "column %zu: %s appears twice", i + 1,
				csv_names[k]);
			ok = false;
		}
		if (k < C_COUNT) {
			seen[k] = true;
		}
		map[i] = k;
	}
	if (!seen[C_UUID]) {
		add_err(x, 0, r->line, "header", "no uuid column");
		ok = false;
	}
	return ok;
}

static void parse_csv(struct ctx *x, const char *buf, size_t len)
{
	struct csv c = {buf, buf + len, 1};
	int map[CSV_MAX_COLS];
	size_t ncols = 0;
	uint32_t row = 0;
	struct rec *r = malloc(sizeof(*r));

	if (!r) {
		x->oom = true;
		return;
	}
	/* A spreadsheet's UTF-8 export may start with a byte order mark. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		c.p += 3;
	}
	while (!x->oom && csv_next(&c, r)) {
		struct cells cs;

		if (rec_blank(r)) {
			continue;
		}
		if (!ncols) {
			if (!csv_header(x, r, map)) {
				break;
			}
			ncols = r->nf;
			continue;
		}
		if (row == MF_MAX_ROWS) {
			add_err(x, 0, r->line, "", "more than %u rows", MF_MAX_ROWS);
			break;
		}
		row++;
		/* A broken record is reported once; its fields are not worth reading. */
		if (r->error) {
			add_err(x, row, r->line, "", "%s", r->error);
			continue;
		}
		if (r->too_long) {
			add_err(x, row, r->line, "", "the row is longer than %u octets",
				MF_MAX_ROW_BYTES);
			continue;
		}
		if (r->nf != ncols) {
			add_err(x, row, r->line, "", "%zu fields, the header has %zu", r->nf,
				ncols);
			continue;
		}
		for (int k = 0; k < C_COUNT; k++) {
			cs.c[k] = (struct cell){"", 0, csv_names[k]};
		}
		for (size_t i = 0; i < ncols; i++) {
			cs.c[map[i]].p = r->buf + r->off[i];
			cs.c[map[i]].n = r->len[i];
		}
		add_row(x, &cs, row, r->line);
	}
	if (!ncols && !x->oom && x->m->n_err_total == 0) {
		add_err(x, 0, 1, "header", "the manifest is empty: no header row");
	}
	sec_wipe(r, sizeof(*r));
	free(r);
}

/* --- JSON ---------------------------------------------------------------- */

/* A string member into a cell; false (reported) when it is of another type. */
static bool json_cell(struct ctx *x, uint32_t row, json_t *v, const char *field, struct cell *c)
{
	if (!json_is_string(v)) {
		add_err(x, row, 0, field, "expected a string");
		return false;
	}
	c->p = json_string_value(v);
	c->n = json_string_length(v);
	c->field = field;
	return true;
}

static bool json_auth(struct ctx *x, uint32_t row, json_t *auth, struct cells *cs, char *size_buf,
		      size_t size_cap)
{
	const char *key;
	json_t *v;
	bool ok = true;

	if (!json_is_object(auth)) {
		add_err(x, row, 0, "auth", "expected an object with a method");
		return false;
	}
	json_object_foreach(auth, key, v)
	{
		if (!strcmp(key, "method")) {
			ok &= json_cell(x, row, v, "auth.method", &cs->c[C_AUTH]);
		} else if (!strcmp(key, "static_oob") || !strcmp(key, "public_key")) {
			if (cs->c[C_VALUE].field) {
				add_err(x, row, 0, "auth", "static_oob and public_key together");
				ok = false;
			}
			ok &= json_cell(x, row, v,
					key[0] == 's' ? "auth.static_oob" : "auth.public_key",
					&cs->c[C_VALUE]);
		} else if (!strcmp(key, "action")) {
			ok &= json_cell(x, row, v, "auth.action", &cs->c[C_ACTION]);
		} else if (!strcmp(key, "size")) {
			if (!json_is_integer(v)) {
				add_err(x, row, 0, "auth.size", "expected an integer");
				ok = false;
				continue;
			}
			snprintf(size_buf, size_cap, "%lld", (long long)json_integer_value(v));
			cs->c[C_SIZE] = (struct cell){size_buf, strlen(size_buf), "auth.size"};
		} else {
			add_err(x, row, 0, "auth", "unknown member \"%.32s\"", key);
			ok = false;
		}
	}
	if (!cs->c[C_AUTH].field) {
		add_err(x, row, 0, "auth.method", "missing method");
		ok = false;
	}
	return ok;
}

static void json_row(struct ctx *x, uint32_t row, json_t *o)
{
	/* Field names in errors follow the JSON shape; absent cells keep them. */
	static const char *const names[C_COUNT] = {
	    [C_UUID] = "uuid",        [C_NAME] = "name",       [C_ZONE] = "zone",
	    [C_AUTH] = "auth.method", [C_VALUE] = "auth",      [C_ACTION] = "auth.action",
	    [C_SIZE] = "auth.size",   [C_PROFILE] = "profile", [C_NOTES] = "notes",
	};
	static const int plain[] = {C_UUID, C_NAME, C_ZONE, C_PROFILE, C_NOTES};
	struct cells cs;
	char size_buf[24];
	const char *key;
	json_t *v;
	bool ok = true;

	if (!json_is_object(o)) {
		add_err(x, row, 0, "", "expected an object");
		return;
	}
	for (int k = 0; k < C_COUNT; k++) {
		cs.c[k] = (struct cell){"", 0, NULL};
	}
	json_object_foreach(o, key, v)
	{
		size_t i;

		if (!strcmp(key, "auth")) {
			ok &= json_auth(x, row, v, &cs, size_buf, sizeof(size_buf));
			continue;
		}
		for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
			if (!strcmp(key, names[plain[i]])) {
				break;
			}
		}
		if (i == sizeof(plain) / sizeof(plain[0])) {
			add_err(x, row, 0, "", "unknown member \"%.32s\"", key);
			ok = false;
			continue;
		}
		ok &= json_cell(x, row, v, names[plain[i]], &cs.c[plain[i]]);
	}
	/* An absent secret is named after the member its method would need. */
	if (!cs.c[C_VALUE].field) {
		cs.c[C_VALUE].field = cell_is(trim(cs.c[C_AUTH]), "oob_public_key")
					  ? "auth.public_key"
					  : "auth.static_oob";
	}
	for (int k = 0; k < C_COUNT; k++) {
		if (!cs.c[k].field) {
			cs.c[k].field = names[k];
		}
	}
	/* A member of the wrong type was reported; the rest of the row is checked only when sound.
	 */
	if (ok) {
		add_row(x, &cs, row, 0);
	}
}

static void parse_json(struct ctx *x, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr), *devs;
	const char *key;
	json_t *v;
	size_t i;

	if (!doc) {
		add_err(x, 0, 0, "", "malformed JSON at line %d column %d: %.60s", jerr.line,
			jerr.column, jerr.text);
		return;
	}
	if (!json_is_object(doc)) {
		add_err(x, 0, 0, "", "expected an object {\"devices\": [...]}");
		goto out;
	}
	json_object_foreach(doc, key, v)
	{
		if (strcmp(key, "devices") != 0) {
			add_err(x, 0, 0, "", "unknown member \"%.32s\"", key);
		}
	}
	devs = json_object_get(doc, "devices");
	if (!json_is_array(devs)) {
		add_err(x, 0, 0, "devices", "expected an array of devices");
		goto out;
	}
	if (json_array_size(devs) > MF_MAX_ROWS) {
		add_err(x, 0, 0, "devices", "more than %u rows", MF_MAX_ROWS);
		goto out;
	}
	/* Room for every row at once: growing it among jansson's many small blocks is slow. */
	if (json_array_size(devs)) {
		x->m->rows = malloc(json_array_size(devs) * sizeof(*x->m->rows));
		if (!x->m->rows) {
			x->oom = true;
			goto out;
		}
		x->row_cap = json_array_size(devs);
	}
	json_array_foreach(devs, i, v)
	{
		if (x->oom) {
			break;
		}
		json_row(x, (uint32_t)i + 1, v);
	}
out:
	/*
	 * jansson frees strings without wiping them, so the document's copies of
	 * the secrets are not wiped (nor is the request body): only the rows are.
	 */
	json_decref(doc);
}

/* --- The whole manifest -------------------------------------------------- */

static int cmp_uuid(const void *a, const void *b)
{
	const struct mf_row *ra = *(const struct mf_row *const *)a;
	const struct mf_row *rb = *(const struct mf_row *const *)b;
	int c = memcmp(ra->uuid, rb->uuid, sizeof(ra->uuid));

	return c ? c : (ra->row > rb->row) - (ra->row < rb->row);
}

/* Every repeat of a UUID is an error on the later row, naming the first (sort: n log n). */
static void check_duplicates(struct ctx *x)
{
	struct mf *m = x->m;
	struct mf_row **v = malloc((m->n_rows ? m->n_rows : 1) * sizeof(*v));
	size_t n = 0, i, first;

	if (!v) {
		x->oom = true;
		return;
	}
	for (i = 0; i < m->n_rows; i++) {
		if (m->rows[i].uuid_ok) {
			v[n++] = &m->rows[i];
		}
	}
	qsort(v, n, sizeof(*v), cmp_uuid);
	for (i = 1, first = 0; i < n; i++) {
		if (memcmp(v[first]->uuid, v[i]->uuid, sizeof(v[i]->uuid)) != 0) {
			first = i;
			continue;
		}
		add_err(x, v[i]->row, v[i]->line, "uuid", "duplicate uuid: also on row %u",
			v[first]->row);
	}
	free(v);
}

/* Errors in row order; within a row in the order found. */
static int cmp_err(const void *a, const void *b)
{
	const struct mf_err *ea = a, *eb = b;

	if (ea->row != eb->row) {
		return ea->row < eb->row ? -1 : 1;
	}
	return (ea->seq > eb->seq) - (ea->seq < eb->seq);
}

void mf_free(struct mf *m)
{
	if (!m) {
		return;
	}
	for (size_t i = 0; i < m->n_rows; i++) {
		free(m->rows[i].notes);
	}
	if (m->rows) {
		sec_wipe(m->rows, m->n_rows * sizeof(*m->rows));
	}
	free(m->rows);
	free(m->errs);
	free(m);
}

int mf_parse(enum mf_format fmt, const char *buf, size_t len, const struct mf_opts *opts,
	     struct mf **out)
{
	struct ctx x = {0};

	*out = NULL;
	x.m = calloc(1, sizeof(*x.m));
	if (!x.m) {
		return -ENOMEM;
	}
	x.m->format = fmt;
	x.o = opts;
	if (len > MF_MAX_BYTES) {
		add_err(&x, 0, 0, "", "the manifest is over %u bytes", MF_MAX_BYTES);
	} else if (fmt == MF_CSV) {
		parse_csv(&x, buf, len);
	} else {
		parse_json(&x, buf, len);
	}
	if (!x.oom) {
		check_duplicates(&x);
	}
	if (x.oom) {
		mf_free(x.m);
		return -ENOMEM;
	}
	if (x.m->n_err) {
		qsort(x.m->errs, x.m->n_err, sizeof(*x.m->errs), cmp_err);
	}
	if (x.m->n_err < x.m->n_err_total &&
	    grow(&x, (void **)&x.m->errs, &x.err_cap, x.m->n_err, sizeof(*x.m->errs))) {
		/* add_err() kept this last place free. */
		struct mf_err *e = &x.m->errs[x.m->n_err++];

		memset(e, 0, sizeof(*e));
		snprintf(e->msg, sizeof(e->msg), "%zu more errors not listed",
			 x.m->n_err_total - (x.m->n_err - 1));
	}
	*out = x.m;
	return 0;
}

json_t *mf_row_json(const struct mf_row *r, bool secrets)
{
	char hex[2 * MF_SECRET_MAX + 1];
	json_t *o, *auth;

	for (size_t i = 0; i < sizeof(r->uuid); i++) {
		snprintf(hex + 2 * i, 3, "%02x", r->uuid[i]);
	}
	o = json_pack("{s:s#}", "uuid", hex, (int)(2 * sizeof(r->uuid)));
	auth = json_pack("{s:s}", "method", mf_auth_name(r->auth));
	if (!o || !auth) {
		json_decref(o);
		json_decref(auth);
		return NULL;
	}
	if (r->name[0]) {
		json_object_set_new(o, "name", json_string(r->name));
	}
	if (r->zone[0]) {
		json_object_set_new(o, "zone", json_string(r->zone));
	}
	if (r->auth == MF_AUTH_OUTPUT || r->auth == MF_AUTH_INPUT) {
		json_object_set_new(auth, "action", json_string(r->action));
		json_object_set_new(auth, "size", json_integer(r->size));
	}
	if (secrets && r->secret_len) {
		for (size_t i = 0; i < r->secret_len; i++) {
			snprintf(hex + 2 * i, 3, "%02x", r->secret[i]);
		}
		json_object_set_new(auth, r->auth == MF_AUTH_STATIC ? "static_oob" : "public_key",
				    json_stringn(hex, 2u * r->secret_len));
		sec_wipe(hex, sizeof(hex));
	}
	json_object_set_new(o, "auth", auth);
	if (r->profile[0]) {
		json_object_set_new(o, "profile", json_string(r->profile));
	}
	if (r->notes) {
		json_object_set_new(o, "notes", json_string(r->notes));
	}
	return o;
}

json_t *mf_errors_json(const struct mf *m)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < m->n_err; i++) {
		const struct mf_err *e = &m->errs[i];
		json_t *o = json_pack("{s:I, s:s, s:s}", "row", (json_int_t)e->row, "field",
				      e->field, "message", e->msg);

		if (o && m->format == MF_CSV && e->line) {
			json_object_set_new(o, "line", json_integer(e->line));
		}
		json_array_append_new(a, o);
	}
	return a;
}
