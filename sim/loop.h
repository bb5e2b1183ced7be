/*
 * The meshsim process around a world (world.h).
 *
 * struct sim_loop is an epoll loop with a timerfd for the world's next
 * deadline (simulation time is the monotonic clock multiplied by the time
 * scale), an optional signalfd for SIGTERM and SIGINT, the native port, the
 * BlueZ ports, the HCI ports and the control socket (sim/PORTS.md).
 */
#ifndef SIM_LOOP_H
#define SIM_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/scenario.h"
#include "sim/world.h"

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
