/*
 * meshsim's HCI port (sim/PORTS.md, "HCI port"): a pseudo-terminal speaking
 * H4 as the virtual LE controller of sim/hci_ctrl.h, with PATH a symlink to
 * the pty's slave.  The port registers its own descriptors with the
 * caller's epoll set (the loop dispatches events back with
 * sim_hci_port_event()), since unplugging and replugging replaces them.
 */
#ifndef SIM_HCI_PORT_H
#define SIM_HCI_PORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/air.h"
#include "sim/hci_ctrl.h"
#include "sim/scenario.h"

struct sim_hci_port;

/*
 * Opens the pty, makes cfg->path a symlink to its slave (replacing a stale
 * symlink; any other kind of file there is refused with -EEXIST), and puts
 * the controller on air as "hci:PATH".  cfg is copied.  ep_data is what the port passes to
 * epoll_ctl for its descriptor.  Returns 0 and the port in *out.
 */
int sim_hci_port_open(struct sim_air *air, const struct sim_scn_hci *cfg, uint64_t seed, int ep,
		      uint64_t ep_data, bool debug, struct sim_hci_port **out);
/* Closes the pty, removes the symlink and leaves the air. */
void sim_hci_port_close(struct sim_hci_port *p);

/* An epoll event on the port's descriptor. */
void sim_hci_port_event(struct sim_hci_port *p, uint32_t events, uint64_t now_us);
uint64_t sim_hci_port_next_deadline(const struct sim_hci_port *p);
void sim_hci_port_tick(struct sim_hci_port *p, uint64_t now_us);

/*
 * "hci N ARGS": status | hang | resume | hangup [MS] | plug | hwerror [CODE] |
 * garbage.  Returns a new reply ending in a newline ("error: ..." on
 * failure), or NULL on no memory.
 */
char *sim_hci_port_ctl(struct sim_hci_port *p, const char *args, uint64_t now_us);
/* {path, pid, profile, state, slave} for "list"; a new reference. */
json_t *sim_hci_port_json(const struct sim_hci_port *p);
/* The controller (tests). */
struct sim_hci_ctrl *sim_hci_port_ctrl(struct sim_hci_port *p);

#endif /* SIM_HCI_PORT_H */
