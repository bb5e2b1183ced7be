/* Helpers every gateway file may use (util.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "gateway/util.h"
#include "storage/store_zone.h"

static const char *const op_states[] = {"pending", "running", "done", "failed", "cancelled"};

uint64_t gw_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char *gw_hex(const uint8_t *p, size_t len, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

int gw_unhex(const char *s, uint8_t *out, size_t len)
{
	size_t i;

	if (!s || strlen(s) != 2 * len) {
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1) {
			return -EINVAL;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

/*
 * Year, month (1..12) and day of the proleptic Gregorian date that is days
 * after 1970-01-01.  Counted in 400-year eras starting on 0000-03-01 (every
 * era has 146097 days, and a year starting in March puts the leap day last);
 * pure arithmetic, unlike gmtime_r(), which takes glibc's time zone lock and
 * so serialises the HTTP threads that print the times of a page of nodes.
 */
static void civil_date(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468; /* days since 0000-03-01 */
	uint64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);                          /* 0..146096 */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
	unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (unsigned)(era * 400 + yoe) + (*m <= 2);
}

/* Two decimal digits of v (0..99) at p. */
static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

size_t gw_time_str(uint64_t ms, char out[GW_TIME_STR_MAX])
{
	uint64_t s = ms / 1000;
	unsigned y, mo, d, sec = (unsigned)(s % 86400);

	civil_date(s / 86400, &y, &mo, &d);
	if (y > 9999) {
		/* Not a date any record carries; the printf path keeps the width rule. */
		return (size_t)snprintf(out, GW_TIME_STR_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
					y, mo, d, sec / 3600, sec / 60 % 60, sec % 60,
					(unsigned)(ms % 1000));
	}
	/* By hand: snprintf was a tenth of the time of printing a page of nodes. */
	memcpy(out, "0000-00-00T00:00:00.000Z", 25);
	put2(out, y / 100);
	put2(out + 2, y % 100);
	put2(out + 5, mo);
	put2(out + 8, d);
	put2(out + 11, sec / 3600);
	put2(out + 14, sec / 60 % 60);
	put2(out + 17, sec % 60);
	out[20] = (char)('0' + ms % 1000 / 100);
	put2(out + 21, (unsigned)(ms % 100));
	return 24;
}

json_t *gw_time_json(uint64_t ms)
{
	char buf[GW_TIME_STR_MAX];

	gw_time_str(ms, buf);
	return json_string(buf);
}

/*
 * gw_node_json() and gw_node_print() show the same object: a field added to
 * one is added to the other (test_jsonw.c compares their bytes).
 */
json_t *gw_node_json(const struct store_node *n)
{
	char uuid[33];

	return json_pack("{s:i, s:s, s:s, s:i, s:s, s:b, s:i, s:i, s:i, s:{s:b, s:b, s:b, s:b}, "
			 "s:o, s:o}",
			 "address", n->unicast, "uuid", gw_hex(n->uuid, 16, uuid), "name", n->name,
			 "elements", n->elements, "state", store_cfg_state_name(n->cfg_state),
			 "excluded", n->excluded, "cid", n->cid, "pid", n->pid, "vid", n->vid,
			 "features", "relay", (n->features & 1) != 0, "proxy",
			 (n->features & 2) != 0, "friend", (n->features & 4) != 0, "low_power",
			 (n->features & 8) != 0, "created_at", gw_time_json(n->created_ms),
			 "updated_at", gw_time_json(n->updated_ms));
}

/* The time of wall_ms as gw_time_json() shows it, quoted. */
static void print_time(struct gw_jw *w, uint64_t wall_ms)
{
	char buf[GW_TIME_STR_MAX + 2];
	size_t n = gw_time_str(wall_ms, buf + 1);

	buf[0] = '"';
	buf[n + 1] = '"';
	gw_jw_raw(w, buf, n + 2);
}

void gw_node_print_open(struct gw_jw *w, const struct store_node *n)
{
	char uuid[33];

	gw_jw_lit(w, "{\"address\":");
	gw_jw_int(w, n->unicast);
	gw_jw_lit(w, ",\"uuid\":");
	gw_jw_str(w, gw_hex(n->uuid, 16, uuid));
	gw_jw_lit(w, ",\"name\":");
	gw_jw_str(w, n->name);
	gw_jw_lit(w, ",\"elements\":");
	gw_jw_int(w, n->elements);
	gw_jw_lit(w, ",\"state\":");
	gw_jw_str(w, store_cfg_state_name(n->cfg_state));
	gw_jw_lit(w, ",\"excluded\":");
	gw_jw_bool(w, n->excluded);
	gw_jw_lit(w, ",\"cid\":");
	gw_jw_int(w, n->cid);
	gw_jw_lit(w, ",\"pid\":");
	gw_jw_int(w, n->pid);
	gw_jw_lit(w, ",\"vid\":");
	gw_jw_int(w, n->vid);
	gw_jw_lit(w, ",\"features\":{\"relay\":");
	gw_jw_bool(w, (n->features & 1) != 0);
	gw_jw_lit(w, ",\"proxy\":");
	gw_jw_bool(w, (n->features & 2) != 0);
	gw_jw_lit(w, ",\"friend\":");
	gw_jw_bool(w, (n->features & 4) != 0);
	gw_jw_lit(w, ",\"low_power\":");
	gw_jw_bool(w, (n->features & 8) != 0);
	gw_jw_lit(w, "},\"created_at\":");
	print_time(w, n->created_ms);
	gw_jw_lit(w, ",\"updated_at\":");
	print_time(w, n->updated_ms);
}

void gw_node_print(struct gw_jw *w, const struct store_node *n)
{
	gw_node_print_open(w, n);
	gw_jw_lit(w, "}");
}

json_t *gw_zone_place_json(const struct store_zone_place *p)
{
	if (!p) {
		return json_null();
	}
	return json_pack("{s:I, s:s, s:i, s:b}", "id", (json_int_t)p->zone.id, "name", p->zone.name,
			 "group", p->zone.group, "pending", p->pending);
}

void gw_zone_place_print(struct gw_jw *w, const struct store_zone_place *p)
{
	if (!p) {
		gw_jw_lit(w, "null");
		return;
	}
	/* The keys in gw_zone_place_json()'s order. */
	gw_jw_lit(w, "{\"id\":");
	gw_jw_int(w, (long long)p->zone.id);
	gw_jw_lit(w, ",\"name\":");
	gw_jw_str(w, p->zone.name);
	gw_jw_lit(w, ",\"group\":");
	gw_jw_int(w, p->zone.group);
	gw_jw_lit(w, ",\"pending\":");
	gw_jw_bool(w, p->pending);
	gw_jw_lit(w, "}");
}

json_t *gw_node_zone_json(struct store *st, uint16_t node)
{
	struct store_zone_place *p = NULL;
	size_t n = 0;
	json_t *o;

	(void)store_zone_places(st, node, node, &p, &n);
	o = gw_zone_place_json(n ? p : NULL);
	free(p);
	return o;
}

uint64_t gw_cmd_id_arg(const struct gw_cmd *c)
{
	const char *s = json_string_value(json_object_get(c->args, "id"));
	char *end = NULL;
	unsigned long long v;

	if (!s || s[0] < '1' || s[0] > '9') {
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	return !errno && end && !*end ? (uint64_t)v : 0;
}

json_t *gw_bearer_state_json(const struct gw_bearer *b)
{
	struct gw_bearer_state st;
	json_t *j;

	gw_bearer_state(b, &st);
	j = json_pack("{s:s, s:s, s:s, s:s}", "kind", st.kind, "name", st.name, "state",
		      gw_bearer_status_name(st.status), "reason", st.reason);
	if (j && st.has_controller) {
		json_object_set_new(
		    j, "controller",
		    json_pack("{s:i, s:i, s:i, s:s, s:s, s:i}", "hci_version", st.ctrl.hci_version,
			      "hci_revision", st.ctrl.hci_revision, "manufacturer",
			      st.ctrl.manufacturer, "manufacturer_name", st.ctrl.manufacturer_name,
			      "advertising", st.ctrl.extended ? "extended" : "legacy",
			      "advertising_sets", st.ctrl.adv_sets));
	}
	return j;
}

json_t *gw_op_json(const struct store_op *op, int target)
{
	json_t *res = op->result ? json_loads(op->result, 0, NULL) : NULL;
	json_t *addr = json_object_get(res, "address");
	char id[24];

	snprintf(id, sizeof(id), "%llu", (unsigned long long)op->id);
	if (target < 0 && json_is_integer(addr)) {
		target = (int)json_integer_value(addr);
	}
	return json_pack("{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "id", id, "type",
			 op->type, "state", op_states[op->state % 5], "progress", op->progress,
			 "target", target >= 0 ? json_integer(target) : json_null(), "result",
			 res ? res : json_null(), "error",
			 op->error[0] ? json_string(op->error) : json_null(), "created_at",
			 gw_time_json(op->created_ms), "updated_at", gw_time_json(op->updated_ms));
}

void gw_crash_point(const char *name)
{
	static unsigned passes;
	const char *want = getenv("MESHGW_CRASH_AT");
	size_t n = strlen(name);
	unsigned nth = 1;

	if (!want || strncmp(want, name, n) != 0 || (want[n] != '\0' && want[n] != ':')) {
		return;
	}
	if (want[n] == ':') {
		nth = (unsigned)strtoul(want + n + 1, NULL, 10);
	}
	if (++passes >= nth) {
		(void)kill(getpid(), SIGKILL);
	}
}
