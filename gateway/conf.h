/*
 * meshgw configuration: a text file of "key = value" lines ('#' starts a
 * comment), parsed into a new struct gw_conf and validated whole, so a bad
 * file (at start or on SIGHUP) is refused with a message naming the line and
 * the running configuration is kept (../shared/style.md §2.8).
 *
 * Keys (defaults in brackets):
 *   state_dir      [/var/lib/meshgw]     database and master key live here
 *   database       [STATE/meshgw.db]
 *   master_key     [STATE/master.key]    created 0600 on first start
 *   listen         [127.0.0.1:8080]      REST API and web page
 *   tls_cert, tls_key                    PEM files; both or neither
 *   web_root       [/usr/share/meshgw/web]
 *   bearer         [sim:/tmp/meshsim.sock]   sim:PATH (meshsim's simulated air),
 *                                        hci:N (controller hciN, HCI user channel) or
 *                                        uart:PATH (an H4 controller on a serial port)
 *   uart_baud      [1000000]             uart: a termios rate, 9600..4000000
 *   uart_flow      [rtscts]              uart: rtscts | none
 *   bearer_socket  [STATE/bearer.sock]   sim: our own socket on the simulated air
 *   position       [0,0,1]               sim: metres, on the simulated air
 *   address        [0x0001]              the gateway's own unicast address
 *   unicast_range  [0x0001-0x7fff]       the gateway's range, address included; nodes
 *                                        get the lowest free addresses in it
 *   group_range    [0xc000-0xcfff]
 *   algorithm      [auto]                auto | hmac (refuse CMAC)
 *   allow_no_oob   [yes]
 *   bind_profile   [all]                 all (bind every AppKey model) | none
 *   max_sessions   [8]                   provisioning links at once (all paths), 1..32
 *   max_local_links [8]                  of those, PB-ADV links from the gateway itself
 *                                        (each Remote Provisioning Server carries one link)
 *   link_open_timeout_s [10]             a device that does not answer a Link Open in
 *                                        this time gives its slot back (retried later), 2..60
 *   job_attempts   [4]                   attempts per job target before it fails, 1..20
 *   job_retry_s    [5]                   delay before a target's 2nd attempt, doubling
 *                                        after each failure (capped at 300 s), 1..600
 *   http_max_connections [4096]          REST connections at once, 16..65535 (503 past
 *                                        7/8 of it; RLIMIT_NOFILE is raised to fit)
 *   http_max_per_ip [256]                connections from one client address, 1..65535
 *                                        (503 beyond it)
 *   http_threads   [auto]                REST worker threads, 1..64; auto = one per
 *                                        online CPU (at most 16)
 *   http_io_timeout_s [10]               idle time, and the most a request's headers,
 *                                        and then its body, may take (408), 1..300
 *   http_max_streams [1024]              event streams at once, 1..65535
 *   http_max_streams_per_token [64]      event streams of one token, 1..65535
 *   metrics_listen [off]                 ADDRESS:PORT of a second listener that serves
 *                                        GET /metrics only (Prometheus text format, a
 *                                        viewer token as for every read); /metrics is on
 *                                        the API listener too.  off = none
 *   http_read_path [direct]              direct: GET of a node and pages of nodes are
 *                                        answered on the HTTP threads from read-only
 *                                        database handles and tokens checked from a
 *                                        table in memory | loop: every request goes
 *                                        through the event loop (the former path, kept
 *                                        to compare in bench/api_wrk.sh)
 *   beacons        [secure]              the beacons the gateway's own node sends (and with
 *                                        which a Key Refresh's phases are announced):
 *                                        secure (Secure Network) | private (Mesh Private,
 *                                        Mesh 1.1) | both
 *   remove_key_refresh [immediate]       after a node's removal, a Key Refresh of its
 *                                        subnets so the removed device holds no working
 *                                        key: immediate (as soon as it is removed) |
 *                                        collect (once no other removal is under way:
 *                                        several removals share one refresh) | off
 *   cbp_trust      [none]                certificate-based provisioning: the manufacturers'
 *                                        root CAs, a PEM bundle or a directory of .pem/.crt
 *                                        (reloaded on SIGHUP)
 *   cbp_max_depth  [4]                   certificates a device may send, its own included,
 *                                        1..8
 *   profile.NAME   [none]                a named configuration profile for manifest rows
 *                                        (gateway/manifest.h): "appkeys I[,I...]; models
 *                                        M[,M...]|all" -- AppKey indexes added to the node
 *                                        and the models bound to each of them (SIG ids
 *                                        0x1000.., vendor models as 0xCCCCMMMM).  NAME is
 *                                        [A-Za-z0-9_.-]{1,32}; "all" (AppKey 0, every model
 *                                        that takes AppKeys) and "none" (AppKey 0, nothing
 *                                        bound) are built in and cannot be redefined
 *   cbp_policy     [prefer]              never | prefer | require: a request's default.
 *                                        prefer reads the records only of a device whose
 *                                        beacon advertises them (a Mesh 1.0 device fails
 *                                        the link on Records Get) and only with cbp_trust
 */
#ifndef GW_CONF_H
#define GW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PATH_MAX 256

#define GW_PROFILES_MAX 32
#define GW_PROFILE_NAME_MAX 32
#define GW_PROFILE_KEYS_MAX 8
#define GW_PROFILE_MODELS_MAX 32

/* A configuration profile: what a node gets after provisioning (profile.NAME). */
struct gw_profile {
	char name[GW_PROFILE_NAME_MAX + 1];
	uint16_t appkeys[GW_PROFILE_KEYS_MAX]; /* AppKey indexes to add, in order */
	uint8_t n_appkeys;
	bool all_models; /* every model that takes AppKeys (SIG ids >= 0x1000, vendor) */
	uint32_t models[GW_PROFILE_MODELS_MAX]; /* SIG id, or company << 16 | id (> 0xffff) */
	uint8_t n_models;
};

/* What a node's removal does to its subnets' keys (remove_key_refresh). */
enum gw_remove_kr {
	GW_REMOVE_KR_IMMEDIATE = 0,
	GW_REMOVE_KR_COLLECT,
	GW_REMOVE_KR_OFF,
};

struct gw_conf {
	char state_dir[GW_PATH_MAX];
	char database[GW_PATH_MAX];
	char master_key[GW_PATH_MAX];
	char listen_addr[64];
	uint16_t listen_port;
	char tls_cert[GW_PATH_MAX];
	char tls_key[GW_PATH_MAX];
	char web_root[GW_PATH_MAX];
	char bearer_kind[8];           /* "sim", "hci" or "uart" */
	char bearer_path[GW_PATH_MAX]; /* sim: meshsim's socket; uart: the serial port */
	int hci_dev;
	uint32_t uart_baud;
	bool uart_rtscts;
	char bearer_socket[GW_PATH_MAX];
	double pos[3];
	uint16_t address;
	uint16_t uni_low, uni_high, grp_low, grp_high;
	bool refuse_cmac;
	bool allow_no_oob;
	bool beacon_secure, beacon_private; /* beacons */
	bool bind_all;
	unsigned max_sessions;
	unsigned max_local_links;
	unsigned link_open_timeout_s;
	unsigned job_attempts;
	unsigned job_retry_s;
	char cbp_trust[GW_PATH_MAX]; /* "" = no trust store */
	unsigned cbp_max_depth;
	uint8_t cbp_policy; /* enum prov_cert_policy */
	/*
	 * Not a file key: `meshgw --integrity-check` runs PRAGMA integrity_check (indexes against
	 * their tables too) on the inventory at start instead of the quick_check done always.
	 */
	bool integrity_full;
	/* REST API front end (api_conf). */
	unsigned http_max_connections;
	unsigned http_max_per_ip;
	unsigned http_threads;
	unsigned http_io_timeout_s;
	unsigned http_max_streams;
	unsigned http_max_streams_per_token;
	char metrics_addr[64]; /* "" = no separate metrics listener */
	uint16_t metrics_port; /* 0 = an ephemeral port (logged at start) */
	bool http_read_direct; /* http_read_path = direct */
	enum gw_remove_kr remove_kr;
	struct gw_profile profiles[GW_PROFILES_MAX]; /* the file's profile.NAME keys */
	size_t n_profiles;
};

/*
 * The profile called name: a configured one or a built-in ("all", "none");
 * NULL when there is none.  Points into c or static storage.
 */
const struct gw_profile *gw_conf_profile(const struct gw_conf *c, const char *name);
/* Profile name i (0 <= i < gw_conf_n_profiles()): the built-ins first, then the file's. */
size_t gw_conf_n_profiles(const struct gw_conf *c);
const char *gw_conf_profile_name(const struct gw_conf *c, size_t i);
/* Does model (SIG id, or company << 16 | id when vendor) belong to profile p? */
bool gw_profile_has_model(const struct gw_profile *p, bool vendor, uint32_t id);

/* "immediate", "collect" or "off". */
const char *gw_conf_remove_kr_name(enum gw_remove_kr m);

/* Defaults, with every path under state_dir. */
void gw_conf_default(struct gw_conf *c);

/*
 * Parse a file into *out (which starts from the defaults).  Returns 0, or
 * -ENOENT/-EACCES (unreadable) or -EINVAL with a message in err.
 */
int gw_conf_load(const char *path, struct gw_conf *out, char *err, size_t err_cap);
/* Parse text (for tests and the fuzz target); same results. */
int gw_conf_parse(const char *text, struct gw_conf *out, char *err, size_t err_cap);

#endif
