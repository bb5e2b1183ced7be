/*
 * meshsim's control protocol (sim/PORTS.md, "Control socket"): one
 * command line in, one reply out, over a Unix stream socket.  This module
 * has the command interpreter (no I/O) and the client used by `meshsim
 * stats` and `meshsim ctl`.
 */
#ifndef SIM_CTL_H
#define SIM_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/world.h"

#define SIM_CTL_LINE_MAX 1024

/* What the process around the world provides to the interpreter. */
struct sim_ctl_hooks {
	void *ctx;
	/* "save [PATH]": writes state; msg gets a short report. */
	int (*save)(void *ctx, const char *path, char *msg, size_t cap);
	/* "quit" */
	void (*quit)(void *ctx);
	/* Extra members for "list" (ports); returns a new reference or NULL. */
	json_t *(*ports_json)(void *ctx);
	/* "hci N ARGS": a new reply ending in a newline; -ENOENT for no port N. */
	int (*hci)(void *ctx, unsigned long n, const char *args, uint64_t now_us, char **reply);
};

/*
 * Runs one command line (without its newline) against w at simulation time
 * now_us.  Returns a new NUL-terminated reply ending in a newline (free()),
 * or NULL on no memory.  Replies to failed commands start with "error: ".
 * hooks may be NULL.
 */
char *sim_ctl_exec(struct sim_world *w, const char *line, uint64_t now_us,
		   const struct sim_ctl_hooks *hooks);

/*
 * Client: connects to the control socket at path, sends cmd and a newline,
 * and reads the reply until the server closes, waiting at most timeout_ms
 * for each step.  On success *reply is a new NUL-terminated string (free()).
 */
int sim_ctl_request(const char *path, const char *cmd, int timeout_ms, char **reply);

#endif /* SIM_CTL_H */
