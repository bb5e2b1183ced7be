/*
 * The simulated advertising air: a pure simulation core.
 *
 * Participants (simulated devices, outside programs joined through a port)
 * have 3-D positions in metres; z is height, and the floor a participant is
 * on is floor(z / floor_height_m).  A transmission reaches every other
 * participant whose received signal strength, from a log-distance path loss
 * model with a per-floor penalty, is at least the strength at `range_m` on
 * the same floor.  Each reception is then dropped with a probability that
 * combines the global loss setting and a distance-dependent edge loss, and
 * may be duplicated.  Collisions are not modelled.
 *
 * Advertising timing follows Core v5.x Vol 6 Part B §4.4.2.2.1: every
 * advertising event is advInterval plus a pseudo-random advDelay of 0–10 ms
 * after the previous one.  sim_air_send(count, interval) therefore puts
 * transmission 0 on the air at now + advDelay0 and transmission i at
 * t(i-1) + interval + advDelay_i; each reception happens `latency_us` after
 * its transmission.  A participant is one radio: transmission 0 of its
 * requests goes on the air in the order of the requests, even when two
 * come within one advDelay (then the later one leaves 1 us after the
 * earlier); later repeats of a request may interleave with newer requests.
 *
 * The object does no I/O, reads no clock and has no globals: time comes in
 * as `now_us` (microseconds of a monotonic simulation clock chosen by the
 * caller), and randomness comes from a PRNG seeded in sim_air_new(), so a
 * run is reproducible from its seed.  The caller asks sim_air_next_deadline()
 * when to wake and calls sim_air_tick(); reception callbacks run from
 * sim_air_tick() only.  Callbacks may call sim_air_send(), sim_air_add(),
 * sim_air_move() and sim_air_remove() (even on themselves), but never
 * sim_air_free() or sim_air_tick().
 */
#ifndef SIM_AIR_H
#define SIM_AIR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_AIR_DATA_MAX 29        /* AD data octets: 31-octet legacy payload - length - type */
#define SIM_AIR_COUNT_MAX 64       /* transmissions per send request */
#define SIM_AIR_INTERVAL_MAX 10000 /* ms between transmissions */
#define SIM_AIR_ADV_DELAY_US 10000 /* advDelay upper bound, Core Vol 6 Part B §4.4.2.2.1 */
#define SIM_AIR_QUEUE_MAX 65536    /* pending events before sim_air_send() says -ENOSPC */
#define SIM_AIR_NAME_MAX 63
#define SIM_AIR_NONE UINT32_MAX

struct sim_pos {
	double x, y, z; /* metres */
};

struct sim_air_params {
	double range_m;        /* same-floor reception range, > 0 */
	double loss;           /* global loss probability per reception, [0,1] */
	double edge_loss;      /* loss probability at the edge of range, [0,1] */
	double duplication;    /* probability that a reception is delivered twice, [0,1] */
	uint32_t latency_us;   /* transmission to reception */
	double floor_height_m; /* > 0 */
	double floor_loss_db;  /* attenuation per floor crossed, >= 0 */
	double path_loss_exp;  /* log-distance exponent n, > 0 */
	double rssi_1m_dbm;    /* received strength at 1 m */
};

/* AD type classes used by the airtime accounting. */
enum sim_air_class {
	SIM_AIR_PB_ADV,  /* 0x29 */
	SIM_AIR_NETWORK, /* 0x2A */
	SIM_AIR_BEACON,  /* 0x2B */
	SIM_AIR_OTHER,
	SIM_AIR_CLASSES
};

/* One reception, handed to a participant's callback.  data is borrowed for the call. */
struct sim_air_rx {
	uint32_t to;   /* the receiving participant */
	uint32_t from; /* the transmitting participant */
	uint8_t ad_type;
	const uint8_t *data;
	size_t len;
	int8_t rssi;      /* dBm */
	uint64_t time_us; /* simulation time of the reception (<= the tick's now) */
};

typedef void (*sim_air_rx_fn)(void *ctx, const struct sim_air_rx *rx);

struct sim_air_counters {
	uint64_t packets[SIM_AIR_CLASSES]; /* transmissions on the air */
	uint64_t bytes[SIM_AIR_CLASSES];   /* AD structure octets: length + type + data */
	uint64_t rx_packets;               /* receptions delivered (duplicates included) */
};

struct sim_air_totals {
	struct sim_air_counters c;
	uint64_t sends;      /* sim_air_send() requests accepted */
	uint64_t lost;       /* receptions in range but dropped by the loss model */
	uint64_t duplicates; /* extra copies delivered */
};

/* Fills p with the defaults: 30 m range, no loss, 10 % edge loss, 3 m floors, 12 dB per floor. */
void sim_air_params_default(struct sim_air_params *p);

/* -EINVAL when a field is out of its documented range. */
int sim_air_params_check(const struct sim_air_params *p);

/* Returns a new air, or NULL on a bad parameter or no memory; free with sim_air_free(). */
struct sim_air *sim_air_new(uint64_t seed, const struct sim_air_params *p);
void sim_air_free(struct sim_air *air);

/* Borrowed; valid until the next sim_air_set_*() or sim_air_free(). */
const struct sim_air_params *sim_air_params(const struct sim_air *air);
/* Changes the global loss probability; -EINVAL outside [0,1]. */
int sim_air_set_loss(struct sim_air *air, double loss);

/*
 * Places a participant at pos.  name (copied, at most SIM_AIR_NAME_MAX
 * characters kept) labels it in the statistics.  rx may be NULL for a
 * participant that only transmits.  Ids are never reused.  -ENOSPC when
 * 2^31 participants were added.
 */
int sim_air_add(struct sim_air *air, const struct sim_pos *pos, const char *name, sim_air_rx_fn rx,
		void *ctx, uint32_t *pid);
int sim_air_move(struct sim_air *air, uint32_t pid, const struct sim_pos *pos);
/* Removes a participant: its pending transmissions and receptions are dropped. */
int sim_air_remove(struct sim_air *air, uint32_t pid);
/* Position of pid; -ENOENT when unknown or removed. */
int sim_air_position(const struct sim_air *air, uint32_t pid, struct sim_pos *pos);
/* Borrowed; valid until sim_air_free(); NULL when unknown. */
const char *sim_air_name(const struct sim_air *air, uint32_t pid);

/*
 * Queues `count` transmissions (1..SIM_AIR_COUNT_MAX) of one AD structure
 * (data copied, len 0..SIM_AIR_DATA_MAX), interval_ms apart
 * (0..SIM_AIR_INTERVAL_MAX) plus advDelay each.  -EINVAL bad argument,
 * -ENOENT unknown sender, -ENOSPC queue full.
 */
int sim_air_send(struct sim_air *air, uint32_t pid, uint8_t ad_type, const uint8_t *data,
		 size_t len, unsigned count, unsigned interval_ms, uint64_t now_us);

/* Earliest pending event, or UINT64_MAX when the air is idle. */
uint64_t sim_air_next_deadline(const struct sim_air *air);

/* Runs every event due at or before now_us, in time order; returns how many ran. */
size_t sim_air_tick(struct sim_air *air, uint64_t now_us);

/* RSSI pid `to` would see from `from`, and whether it is in range; -ENOENT unknown. */
int sim_air_link(const struct sim_air *air, uint32_t from, uint32_t to, int8_t *rssi,
		 bool *in_range);

/* Airtime accounting; readable any time.  -ENOENT for an unknown pid. */
void sim_air_totals(const struct sim_air *air, struct sim_air_totals *t);
int sim_air_counters(const struct sim_air *air, uint32_t pid, struct sim_air_counters *c);
/* Number of participant ids handed out so far (removed ones included). */
uint32_t sim_air_count(const struct sim_air *air);

/* Class of an AD type for the accounting. */
enum sim_air_class sim_air_class_of(uint8_t ad_type);

/*
 * The statistics as JSON (layout in sim/PORTS.md, "Statistics").  Returns
 * a new reference (json_decref()), or NULL on no memory.
 */
json_t *sim_air_stats_json(const struct sim_air *air, uint64_t now_us);

#endif /* SIM_AIR_H */
