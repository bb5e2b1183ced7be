/*
 * The "node" device kind of meshsim: a Bluetooth Mesh device built on our
 * own mesh/ stack in the device role.
 *
 * Unprovisioned, it sends Unprovisioned Device beacons (with the URI hash
 * when the scenario gives a URI) and answers PB-ADV provisioning with the
 * authentication its scenario entry offers; Output OOB values are shown
 * through sim_world_display() (as a person would read them off a blinking
 * device) and Input OOB values are typed with the control command
 * "dev N input VALUE".  Provisioned, it is a node with a Config Server, a
 * Generic OnOff Server on every element that lists model 0x1000, the other
 * models of its composition (present, silent), relaying when its Relay state
 * is on, Secure Network Beacons, Key Refresh and IV Update as a node follows
 * them.  Node Reset returns it to the unprovisioned state with fresh keys.
 *
 * Control commands: "status", "input VALUE", "onoff" (the lights' states),
 * "comp128 HEX" (put a new Composition Data page 128 in place, as a device
 * does after a firmware change), "reset" (factory reset).
 */
#ifndef SIM_NODE_DEV_H
#define SIM_NODE_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/loop.h"

extern const struct sim_device_ops sim_node_kind;

#define SIM_NODE_ERR_MAX 112

/* Introspection for tests (d is what create() returned). */
bool sim_node_provisioned(const void *d);
uint16_t sim_node_addr(const void *d);
/* State of the OnOff server on element elem; false when there is none. */
bool sim_node_onoff(const void *d, uint8_t elem);
/* The mesh node (NULL while unprovisioned); borrowed. */
struct mesh_node *sim_node_mesh(void *d);
/*
 * Why the last load() refused its state ("net_keys[].key: not hex"), "" when
 * it did not; borrowed until the next load().  The same text is shown
 * through sim_world_display() as "state refused: ...".
 */
const char *sim_node_state_error(const void *d);

#endif
