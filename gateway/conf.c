#include "gateway/conf.h"

#include "gateway/hci_io.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_conf_default(struct gw_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/meshgw");
	snprintf(c->listen_addr, sizeof(c->listen_addr), "127.0.0.1");
	c->listen_port = 8080;
	snprintf(c->web_root, sizeof(c->web_root), "/usr/share/meshgw/web");
	snprintf(c->bearer_kind, sizeof(c->bearer_kind), "sim");
	snprintf(c->bearer_path, sizeof(c->bearer_path), "/tmp/meshsim.sock");
	c->pos[2] = 1.0;
	c->uart_baud = 1000000;
	c->uart_rtscts = true;
	c->address = 0x0001;
	c->uni_low = 0x0001;
	c->uni_high = 0x7fff;
	c->grp_low = 0xc000;
	c->grp_high = 0xcfff;
	c->allow_no_oob = true;
	c->beacon_secure = true;
	c->bind_all = true;
	c->max_sessions = 8;
	c->max_local_links = 8;
	c->link_open_timeout_s = 10;
	c->job_attempts = 4;
	c->job_retry_s = 5;
	c->http_max_connections = 4096;
	c->http_max_per_ip = 256;
	c->http_threads = 0; /* auto: api.h */
	c->http_read_direct = true;
	c->http_io_timeout_s = 10;
	c->http_max_streams = 1024;
	c->http_max_streams_per_token = 64;
	c->remove_kr = GW_REMOVE_KR_IMMEDIATE;
	c->cbp_max_depth = 4;
	c->cbp_policy = 1; /* PROV_CERT_PREFER: meaningful only with cbp_trust */
}

/* Built-in profiles: the two bind_profile behaviours, by name. */
static const struct gw_profile builtin[] = {
    {.name = "all", .appkeys = {0}, .n_appkeys = 1, .all_models = true},
    {.name = "none", .appkeys = {0}, .n_appkeys = 1},
};
#define N_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

const struct gw_profile *gw_conf_profile(const struct gw_conf *c, const char *name)
{
	size_t i;

	for (i = 0; name && i < N_BUILTIN; i++) {
		if (!strcmp(builtin[i].name, name)) {
			return &builtin[i];
		}
	}
	for (i = 0; name && i < c->n_profiles; i++) {
		if (!strcmp(c->profiles[i].name, name)) {
			return &c->profiles[i];
		}
	}
	return NULL;
}

size_t gw_conf_n_profiles(const struct gw_conf *c)
{
	return N_BUILTIN + c->n_profiles;
}

const char *gw_conf_profile_name(const struct gw_conf *c, size_t i)
{
	return i < N_BUILTIN ? builtin[i].name : c->profiles[i - N_BUILTIN].name;
}

bool gw_profile_has_model(const struct gw_profile *p, bool vendor, uint32_t id)
{
	if (p->all_models) {
		return true;
	}
	for (size_t i = 0; i < p->n_models; i++) {
		/* A vendor id always has a company above 0xffff; a SIG id never does. */
		if (p->models[i] == id && (p->models[i] > 0xffff) == vendor) {
			return true;
		}
	}
	return false;
}

static bool profile_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > GW_PROFILE_NAME_MAX) {
		return false;
	}
	for (; *s; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-')) {
			return false;
		}
	}
	return true;
}

/* A comma-separated list of numbers (0x.. or decimal) each <= max, none empty; *n set. */
static bool parse_list(const char *v, uint32_t max, uint32_t *out, size_t cap, size_t *n)
{
	const char *p = v;

	*n = 0;
	for (;;) {
		char *end;
		unsigned long x;

		while (*p == ' ' || *p == '\t') {
			p++;
		}
		errno = 0;
		x = strtoul(p, &end, 0);
		if (errno || end == p || *p == '-' || *p == '+' || x > max || *n >= cap) {
			return false;
		}
		out[(*n)++] = (uint32_t)x;
		p = end;
		while (*p == ' ' || *p == '\t') {
			p++;
		}
		if (*p == '\0') {
			return true;
		}
		if (*p++ != ',') {
			return false;
		}
	}
}

/* "appkeys 0,1; models 0x1000,0x1001" (or "models all") into p. */
static bool parse_profile(const char *v, struct gw_profile *p)
{
	char buf[512], *save = NULL, *part;
	uint32_t vals[GW_PROFILE_MODELS_MAX];
	size_t n;
	bool keys = false;

	if (strlen(v) >= sizeof(buf)) {
		return false;
	}
	snprintf(buf, sizeof(buf), "%s", v);
	for (part = strtok_r(buf, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
		char *sp;

		while (*part == ' ' || *part == '\t') {
			part++;
		}
		sp = strpbrk(part, " \t");
		if (!sp) {
			return false;
		}
		*sp++ = '\0';
		if (!strcmp(part, "appkeys") && !keys) {
			/* AppKey indexes are 12 bits (Mesh Profile §4.3.1.1). */
			if (!parse_list(sp, 0xfff, vals, GW_PROFILE_KEYS_MAX, &n)) {
				return false;
			}
			for (size_t i = 0; i < n; i++) {
				p->appkeys[i] = (uint16_t)vals[i];
			}
			p->n_appkeys = (uint8_t)n;
			keys = true;
		} else if (!strcmp(part, "models") && !p->all_models && !p->n_models) {
			while (*sp == ' ' || *sp == '\t') {
				sp++;
			}
			if (!strncmp(sp, "all", 3) && !sp[3 + strspn(sp + 3, " \t")]) {
				p->all_models = true;
				continue;
			}
			if (!parse_list(sp, UINT32_MAX, vals, GW_PROFILE_MODELS_MAX, &n)) {
				return false;
			}
			for (size_t i = 0; i < n; i++) {
				/* SIG models below 0x1000 are foundation models: no AppKey. */
				if (vals[i] < 0x1000) {
					return false;
				}
				p->models[i] = vals[i];
			}
			p->n_models = (uint8_t)n;
		} else {
			return false;
		}
	}
	return keys;
}

static const char *const remove_kr_names[] = {"immediate", "collect", "off"};

const char *gw_conf_remove_kr_name(enum gw_remove_kr m)
{
	return (size_t)m < sizeof(remove_kr_names) / sizeof(remove_kr_names[0]) ? remove_kr_names[m]
										: "immediate";
}

static int fail(char *err, size_t cap, int line, const char *what)
{
	snprintf(err, cap, "line %d: %s", line, what);
	return -EINVAL;
}

static bool parse_u16(const char *v, uint16_t *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 0);
	if (errno || end == v || *end || n > 0xffff) {
		return false;
	}
	*out = (uint16_t)n;
	return true;
}

/* ADDRESS:PORT, the address an IPv4 or IPv6 literal (the API binds literals only). */
static bool parse_listen(const char *v, char *addr, size_t addr_cap, uint16_t *port)
{
	const char *colon = strrchr(v, ':');
	unsigned char bin[sizeof(struct in6_addr)];
	char a[64];

	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(a) ||
	    (size_t)(colon - v) >= addr_cap || !parse_u16(colon + 1, port)) {
		return false;
	}
	memcpy(a, v, (size_t)(colon - v));
	a[colon - v] = '\0';
	if (inet_pton(AF_INET, a, bin) != 1 && inet_pton(AF_INET6, a, bin) != 1) {
		return false;
	}
	memcpy(addr, a, (size_t)(colon - v) + 1);
	return true;
}

static bool parse_range(const char *v, uint16_t *lo, uint16_t *hi)
{
	char buf[64];
	char *dash;

	if (strlen(v) >= sizeof(buf)) {
		return false;
	}
	strcpy(buf, v);
	dash = strchr(buf, '-');
	if (!dash) {
		return false;
	}
	*dash = '\0';
	return parse_u16(buf, lo) && parse_u16(dash + 1, hi) && *lo <= *hi;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0")) {
		*out = false;
		return true;
	}
	return false;
}

static bool set_path(char *dst, const char *v)
{
	if (!*v || strlen(v) >= GW_PATH_MAX) {
		return false;
	}
	snprintf(dst, GW_PATH_MAX, "%s", v);
	return true;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t') {
		s++;
	}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) {
		*--e = '\0';
	}
	return s;
}

static int apply(struct gw_conf *c, const char *k, const char *v, int line, char *err, size_t cap)
{
	if (!strcmp(k, "state_dir")) {
		return set_path(c->state_dir, v) ? 0 : fail(err, cap, line, "bad state_dir");
	}
	if (!strcmp(k, "database")) {
		return set_path(c->database, v) ? 0 : fail(err, cap, line, "bad database");
	}
	if (!strcmp(k, "master_key")) {
		return set_path(c->master_key, v) ? 0 : fail(err, cap, line, "bad master_key");
	}
	if (!strcmp(k, "tls_cert")) {
		return set_path(c->tls_cert, v) ? 0 : fail(err, cap, line, "bad tls_cert");
	}
	if (!strcmp(k, "tls_key")) {
		return set_path(c->tls_key, v) ? 0 : fail(err, cap, line, "bad tls_key");
	}
	if (!strcmp(k, "web_root")) {
		return set_path(c->web_root, v) ? 0 : fail(err, cap, line, "bad web_root");
	}
	if (!strcmp(k, "bearer_socket")) {
		return set_path(c->bearer_socket, v) ? 0
						     : fail(err, cap, line, "bad bearer_socket");
	}
	if (!strcmp(k, "listen")) {
		return parse_listen(v, c->listen_addr, sizeof(c->listen_addr), &c->listen_port)
			   ? 0
			   : fail(err, cap, line, "listen must be ADDRESS:PORT");
	}
	if (!strcmp(k, "metrics_listen")) {
		if (!strcmp(v, "off")) {
			c->metrics_addr[0] = '\0';
			c->metrics_port = 0;
			return 0;
		}
		return parse_listen(v, c->metrics_addr, sizeof(c->metrics_addr), &c->metrics_port)
			   ? 0
			   : fail(err, cap, line, "metrics_listen must be ADDRESS:PORT or off");
	}
	if (!strcmp(k, "bearer")) {
		if (!strncmp(v, "sim:", 4) && set_path(c->bearer_path, v + 4)) {
			snprintf(c->bearer_kind, sizeof(c->bearer_kind), "sim");
			return 0;
		}
		if (!strncmp(v, "hci:", 4)) {
			uint16_t n;

			if (!parse_u16(v + 4, &n) || n > 63) {
				return fail(err, cap, line, "bearer hci:N needs a device number");
			}
			snprintf(c->bearer_kind, sizeof(c->bearer_kind), "hci");
			c->hci_dev = n;
			return 0;
		}
		if (!strncmp(v, "uart:", 5)) {
			if (!set_path(c->bearer_path, v + 5)) {
				return fail(err, cap, line, "bearer uart:PATH needs a path");
			}
			snprintf(c->bearer_kind, sizeof(c->bearer_kind), "uart");
			return 0;
		}
		return fail(err, cap, line, "bearer must be sim:PATH, hci:N or uart:PATH");
	}
	if (!strcmp(k, "uart_baud")) {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || n > 4000000 || !hci_io_baud_valid((uint32_t)n)) {
			return fail(err, cap, line,
				    "uart_baud must be a standard rate (9600 ... 4000000)");
		}
		c->uart_baud = (uint32_t)n;
		return 0;
	}
	if (!strcmp(k, "uart_flow")) {
		if (strcmp(v, "rtscts") && strcmp(v, "none")) {
			return fail(err, cap, line, "uart_flow must be rtscts or none");
		}
		c->uart_rtscts = !strcmp(v, "rtscts");
		return 0;
	}
	if (!strcmp(k, "position")) {
		double x, y, z;
		char extra;

		if (sscanf(v, "%lf,%lf,%lf%c", &x, &y, &z, &extra) != 3) {
			return fail(err, cap, line, "position must be X,Y,Z");
		}
		c->pos[0] = x;
		c->pos[1] = y;
		c->pos[2] = z;
		return 0;
	}
	if (!strcmp(k, "address")) {
		if (!parse_u16(v, &c->address) || c->address == 0 || c->address >= 0x8000) {
			return fail(err, cap, line, "address must be a unicast address");
		}
		return 0;
	}
	if (!strcmp(k, "unicast_range")) {
		if (!parse_range(v, &c->uni_low, &c->uni_high) || c->uni_low == 0 ||
		    c->uni_high >= 0x8000) {
			return fail(err, cap, line,
				    "unicast_range must be LOW-HIGH within 0x0001-0x7fff");
		}
		return 0;
	}
	if (!strcmp(k, "group_range")) {
		if (!parse_range(v, &c->grp_low, &c->grp_high) || c->grp_low < 0xc000 ||
		    c->grp_high >= 0xff00) {
			return fail(err, cap, line,
				    "group_range must be LOW-HIGH within 0xc000-0xfeff");
		}
		return 0;
	}
	if (!strcmp(k, "algorithm")) {
		if (strcmp(v, "auto") && strcmp(v, "hmac")) {
			return fail(err, cap, line, "algorithm must be auto or hmac");
		}
		c->refuse_cmac = !strcmp(v, "hmac");
		return 0;
	}
	if (!strcmp(k, "allow_no_oob")) {
		return parse_bool(v, &c->allow_no_oob) ? 0
						       : fail(err, cap, line, "expected yes/no");
	}
	if (!strcmp(k, "beacons")) {
		bool both = !strcmp(v, "both");

		if (!both && strcmp(v, "secure") && strcmp(v, "private")) {
			return fail(err, cap, line, "beacons must be secure, private or both");
		}
		c->beacon_secure = both || !strcmp(v, "secure");
		c->beacon_private = both || !strcmp(v, "private");
		return 0;
	}
	if (!strcmp(k, "remove_key_refresh")) {
		for (size_t i = 0; i < sizeof(remove_kr_names) / sizeof(remove_kr_names[0]); i++) {
			if (!strcmp(v, remove_kr_names[i])) {
				c->remove_kr = (enum gw_remove_kr)i;
				return 0;
			}
		}
		return fail(err, cap, line, "remove_key_refresh must be immediate, collect or off");
	}
	if (!strcmp(k, "cbp_trust")) {
		return set_path(c->cbp_trust, v) ? 0 : fail(err, cap, line, "bad cbp_trust");
	}
	if (!strcmp(k, "http_read_path")) {
		if (strcmp(v, "direct") && strcmp(v, "loop")) {
			return fail(err, cap, line, "http_read_path must be direct or loop");
		}
		c->http_read_direct = !strcmp(v, "direct");
		return 0;
	}
	if (!strcmp(k, "cbp_policy")) {
		static const char *const names[] = {"never", "prefer", "require"};

		for (uint8_t i = 0; i < 3; i++) {
			if (!strcmp(v, names[i])) {
				c->cbp_policy = i;
				return 0;
			}
		}
		return fail(err, cap, line, "cbp_policy must be never, prefer or require");
	}
	if (!strncmp(k, "profile.", 8)) {
		struct gw_profile p = {0};

		if (!profile_name_ok(k + 8) || gw_conf_profile(c, k + 8)) {
			return fail(err, cap, line,
				    "profile.NAME: NAME is [A-Za-z0-9_.-]{1,32}, not all, none or "
				    "one named before");
		}
		if (c->n_profiles >= GW_PROFILES_MAX) {
			return fail(err, cap, line, "more than 32 profiles");
		}
		if (!parse_profile(v, &p)) {
			return fail(
			    err, cap, line,
			    "a profile is \"appkeys I[,I...]; models M[,M...]|all\" (AppKey "
			    "indexes 0..4095, at most 8; models 0x1000.. or 0xCCCCMMMM, at most "
			    "32)");
		}
		snprintf(p.name, sizeof(p.name), "%s", k + 8);
		c->profiles[c->n_profiles++] = p;
		return 0;
	}
	if (!strcmp(k, "http_threads") && !strcmp(v, "auto")) {
		c->http_threads = 0;
		return 0;
	}
	if (!strcmp(k, "bind_profile")) {
		if (strcmp(v, "all") && strcmp(v, "none")) {
			return fail(err, cap, line, "bind_profile must be all or none");
		}
		c->bind_all = !strcmp(v, "all");
		return 0;
	}
	{
		/* Numeric limits: key, field, range. */
		static const struct {
			const char *key;
			size_t off;
			uint16_t lo, hi;
			const char *msg;
		} lim[] = {
		    {"max_sessions", offsetof(struct gw_conf, max_sessions), 1, 32,
		     "max_sessions must be 1..32"},
		    {"max_local_links", offsetof(struct gw_conf, max_local_links), 1, 32,
		     "max_local_links must be 1..32"},
		    {"link_open_timeout_s", offsetof(struct gw_conf, link_open_timeout_s), 2, 60,
		     "link_open_timeout_s must be 2..60"},
		    {"job_attempts", offsetof(struct gw_conf, job_attempts), 1, 20,
		     "job_attempts must be 1..20"},
		    {"job_retry_s", offsetof(struct gw_conf, job_retry_s), 1, 600,
		     "job_retry_s must be 1..600"},
		    {"http_max_connections", offsetof(struct gw_conf, http_max_connections), 16,
		     65535, "http_max_connections must be 16..65535"},
		    {"http_max_per_ip", offsetof(struct gw_conf, http_max_per_ip), 1, 65535,
		     "http_max_per_ip must be 1..65535"},
		    {"http_threads", offsetof(struct gw_conf, http_threads), 1, 64,
		     "http_threads must be auto or 1..64"},
		    {"http_io_timeout_s", offsetof(struct gw_conf, http_io_timeout_s), 1, 300,
		     "http_io_timeout_s must be 1..300"},
		    {"http_max_streams", offsetof(struct gw_conf, http_max_streams), 1, 65535,
		     "http_max_streams must be 1..65535"},
		    {"http_max_streams_per_token",
		     offsetof(struct gw_conf, http_max_streams_per_token), 1, 65535,
		     "http_max_streams_per_token must be 1..65535"},
		    {"cbp_max_depth", offsetof(struct gw_conf, cbp_max_depth), 1, 8,
		     "cbp_max_depth must be 1..8"},
		};
		size_t i;

		for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
			uint16_t n;

			if (strcmp(k, lim[i].key) != 0) {
				continue;
			}
			if (!parse_u16(v, &n) || n < lim[i].lo || n > lim[i].hi) {
				return fail(err, cap, line, lim[i].msg);
			}
			*(unsigned *)(void *)((char *)c + lim[i].off) = n;
			return 0;
		}
	}
	snprintf(err, cap, "line %d: unknown key '%.40s'", line, k);
	return -EINVAL;
}

int gw_conf_parse(const char *text, struct gw_conf *out, char *err, size_t cap)
{
	struct gw_conf c = *out;
	char line[1024];
	const char *p = text;
	int n = 0, r;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *s, *eq, *hash;

		n++;
		if (len >= sizeof(line)) {
			return fail(err, cap, n, "line too long");
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		hash = strchr(line, '#');
		if (hash) {
			*hash = '\0';
		}
		s = trim(line);
		if (!*s) {
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			return fail(err, cap, n, "expected key = value");
		}
		*eq = '\0';
		r = apply(&c, trim(s), trim(eq + 1), n, err, cap);
		if (r) {
			return r;
		}
	}
	if (!c.database[0] &&
	    snprintf(c.database, sizeof(c.database), "%s/meshgw.db", c.state_dir) >= GW_PATH_MAX) {
		return fail(err, cap, 0, "state_dir too long");
	}
	if (!c.master_key[0] && snprintf(c.master_key, sizeof(c.master_key), "%s/master.key",
					 c.state_dir) >= GW_PATH_MAX) {
		return fail(err, cap, 0, "state_dir too long");
	}
	if (!c.bearer_socket[0] && snprintf(c.bearer_socket, sizeof(c.bearer_socket),
					    "%s/bearer.sock", c.state_dir) >= GW_PATH_MAX) {
		return fail(err, cap, 0, "state_dir too long");
	}
	if (!c.tls_cert[0] != !c.tls_key[0]) {
		return fail(err, cap, 0, "tls_cert and tls_key go together");
	}
	if (c.address < c.uni_low || c.address > c.uni_high) {
		return fail(err, cap, 0, "address must lie inside unicast_range");
	}
	*out = c;
	return 0;
}

int gw_conf_load(const char *path, struct gw_conf *out, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	char *text;
	long len;
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return r;
	}
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || len > 1 << 20 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		snprintf(err, cap, "%s: unreadable or larger than 1 MiB", path);
		return -EINVAL;
	}
	text = malloc((size_t)len + 1);
	if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
		free(text);
		fclose(f);
		snprintf(err, cap, "%s: read failed", path);
		return -EIO;
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != (size_t)len) {
		free(text);
		snprintf(err, cap, "%s: contains a NUL byte", path);
		return -EINVAL;
	}
	r = gw_conf_parse(text, out, err, cap);
	free(text);
	return r;
}
