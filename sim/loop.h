/*
 * Hosting for meshsim, in two layers.
 *
 * struct sim_world is pure (no I/O, no clock): the air plus the simulated
 * devices, driven in virtual time by sim_world_next_deadline() and
 * sim_world_tick().  Tests and benchmarks run a whole building through it
 * without sleeping.  Device implementations plug in through struct
 * sim_device_ops; the caller passes the table of available kinds, so there
 * is no global registry.
 *
 * struct sim_loop is the meshsim process around a world: an epoll loop with
 * a timerfd for the world's next deadline (simulation time is the monotonic
 * clock multiplied by the time scale), an optional signalfd for SIGTERM and
 * SIGINT, the native port, the BlueZ ports, the HCI ports and the control socket
 * (sim/PORTS.md).
 */
#ifndef SIM_LOOP_H
#define SIM_LOOP_H

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
/* {"devices": {uuid-hex: state}} for every hosted device with a save hook. */
json_t *sim_world_save_json(const struct sim_world *w);
/* Restores what sim_world_save_json() produced; unknown UUIDs are ignored. */
int sim_world_load_json(struct sim_world *w, json_t *state, uint64_t now_us);

/* --- The process loop --------------------------------------------------- */

struct sim_loop_opts {
	double time_scale;                 /* simulation seconds per real second, > 0 */
	const char *native_path;           /* NULL: no native port */
	const struct sim_scn_bluez *bluez; /* borrowed array */
	size_t n_bluez;
	const struct sim_scn_hci *hci; /* borrowed array: HCI ports (sim/hci_port.h) */
	size_t n_hci;
	const char *ctl_path;   /* NULL: no control socket */
	const char *state_path; /* "save" default, also written at SIGTERM/SIGINT (NULL: none) */
	bool signals;           /* handle SIGTERM/SIGINT through a signalfd (blocks them) */
	bool debug;             /* log port traffic to stderr */
};

/*
 * Returns a new loop around w (borrowed; it must outlive the loop) with its
 * sockets bound (stale socket files at the paths are replaced) and its HCI
 * ports' ptys linked, or NULL with
 * a negative errno in *err and a message on stderr.  Free with
 * sim_loop_free(), which unlinks the socket files.
 */
struct sim_loop *sim_loop_new(struct sim_world *w, const struct sim_loop_opts *o, int *err);
void sim_loop_free(struct sim_loop *l);

/* Waits up to timeout_ms (-1 forever) for one batch of events and handles them. */
int sim_loop_run_once(struct sim_loop *l, int timeout_ms);
/* Runs until sim_loop_stop(), a "quit" command or a signal. */
int sim_loop_run(struct sim_loop *l);
void sim_loop_stop(struct sim_loop *l);
bool sim_loop_stopped(const struct sim_loop *l);
/* Simulation time now, in microseconds since the loop started. */
uint64_t sim_loop_now(const struct sim_loop *l);
/*
 * Saves device state to per-device state files and to path (NULL: the
 * state_path option, if any).  Files are created 0600: they hold keys.
 */
int sim_loop_save(struct sim_loop *l, const char *path, char *msg, size_t cap);

#endif /* SIM_LOOP_H */
