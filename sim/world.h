/*
 * The pure world of meshsim: the air plus the simulated devices.
 *
 * struct sim_world has no I/O and no clock: it is driven in virtual time by
 * sim_world_next_deadline() and sim_world_tick().  Tests and benchmarks run
 * a whole building through it without sleeping; the meshsim process runs
 * one inside its loop (loop.h).  Device implementations plug in through
 * struct sim_device_ops; the caller passes the table of available kinds,
 * so there is no global registry.
 */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/air.h"
#include "sim/scenario.h"

struct sim_world;

/*
 * A kind of simulated device.  One instance is created per scenario device
 * whose "kind" equals `kind`.  Times are simulation microseconds (divide by
 * 1000 for mesh/'s now_ms).  A device transmits with sim_world_send() and
 * shows Output OOB values with sim_world_display(); it must not call
 * sim_world_tick() or free the world.
 */
struct sim_device_ops {
	const char *kind;
	/*
	 * Creates the device `dev` for cfg (borrowed; it outlives the device).
	 * seed is distinct per device and reproducible from the world's seed.
	 * Returns 0 and the device in *out, or a negative errno.
	 */
	int (*create)(struct sim_world *w, unsigned dev, const struct sim_scn_device *cfg,
		      uint64_t seed, uint64_t now_us, void **out);
	void (*free)(void *d);
	/* One AD structure received from the air. */
	void (*rx)(void *d, const struct sim_air_rx *rx);
	/*
	 * Earliest time the device wants tick(), UINT64_MAX for never.  May be
	 * NULL.  The world caches it after every call into the device (create,
	 * rx, tick, ctl, load), so it may change only as a result of such a call.
	 */
	uint64_t (*next_deadline)(void *d);
	void (*tick)(void *d, uint64_t now_us);
	/*
	 * A control command addressed to the device ("dev N ARGS", sim/PORTS.md),
	 * e.g. an Input OOB value typed by a person.  Writes a NUL-terminated
	 * reply to out.  May be NULL.
	 */
	int (*ctl)(void *d, const char *args, uint64_t now_us, char *out, size_t cap);
	/* The device's persistent state as a new JSON reference, or NULL.  May be NULL. */
	json_t *(*save)(void *d);
	/* Restores state produced by save() (borrowed).  May be NULL. */
	int (*load)(void *d, json_t *state, uint64_t now_us);
};

#define SIM_WORLD_DISPLAY_MAX 64 /* display lines kept for the "oob" command */
#define SIM_WORLD_TEXT_MAX 63

/*
 * Returns a new world, or NULL on bad parameters or no memory; free with
 * sim_world_free().  kinds (may be NULL when n_kinds is 0) is borrowed for
 * the world's lifetime.
 */
struct sim_world *sim_world_new(uint64_t seed, const struct sim_air_params *p,
				const struct sim_device_ops *const *kinds, size_t n_kinds);
void sim_world_free(struct sim_world *w);

/* Borrowed; valid until sim_world_free(). */
struct sim_air *sim_world_air(struct sim_world *w);

/*
 * Places a scenario device on the air.  cfg is borrowed and must outlive
 * the world.  When no kind matches cfg->kind the device still joins the air
 * as a silent participant (hosted = false in "list").  Returns 0 and its
 * index in *dev.
 */
int sim_world_add_device(struct sim_world *w, const struct sim_scn_device *cfg, uint64_t now_us,
			 unsigned *dev);
unsigned sim_world_n_devices(const struct sim_world *w);
/* Air participant of a device; SIM_AIR_NONE when dev is out of range. */
uint32_t sim_world_device_pid(const struct sim_world *w, unsigned dev);
/* The device object created by its kind; NULL when not hosted.  Borrowed. */
void *sim_world_device(const struct sim_world *w, unsigned dev);
/* The scenario entry of a device (borrowed); NULL when dev is out of range. */
const struct sim_scn_device *sim_world_device_cfg(const struct sim_world *w, unsigned dev);

/* Transmits for a device (sim_air_send() semantics). */
int sim_world_send(struct sim_world *w, unsigned dev, uint8_t ad_type, const uint8_t *data,
		   size_t len, unsigned count, unsigned interval_ms, uint64_t now_us);
/*
 * A device shows text to a person (an Output OOB value, a blinking LED...).
 * Kept in a ring of SIM_WORLD_DISPLAY_MAX lines for the "oob" control
 * command and passed to the display hook, if set.
 */
void sim_world_display(struct sim_world *w, unsigned dev, const char *text, uint64_t now_us);
void sim_world_set_display_hook(struct sim_world *w,
				void (*fn)(void *ctx, unsigned dev, const char *name,
					   const char *text),
				void *ctx);

uint64_t sim_world_next_deadline(const struct sim_world *w);
/* Runs the air and every device due at or before now_us. */
void sim_world_tick(struct sim_world *w, uint64_t now_us);

/* New JSON references (NULL on no memory): devices, display lines. */
json_t *sim_world_list_json(const struct sim_world *w);
json_t *sim_world_displays_json(const struct sim_world *w);
/* Forwards "dev N ARGS"; -ENOENT no such device, -ENOTSUP no ctl hook. */
int sim_world_device_ctl(struct sim_world *w, unsigned dev, const char *args, uint64_t now_us,
			 char *out, size_t cap);
/* A device's key in the JSON below: its UUID in 32 lower-case hex digits. */
void sim_world_uuid_hex(const uint8_t uuid[16], char out[33]);
/* {"devices": {uuid-hex: state}} for every hosted device with a save hook. */
json_t *sim_world_save_json(const struct sim_world *w);
/* Restores what sim_world_save_json() produced; unknown UUIDs are ignored. */
int sim_world_load_json(struct sim_world *w, json_t *state, uint64_t now_us);

#endif /* SIM_WORLD_H */
