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
 * Unprovisioned, it also advertises its name (AD 0x09) and URI (AD 0x24)
 * after each beacon, as a scan response would carry them.
 *
 * With "rpr_server" in its scenario entry, the provisioned node runs a
 * Remote Provisioning Server (mesh/rpr_srv.h; model 0x0004 once on element
 * 0): it scans the beacons it hears (with their RSSI), answers Extended
 * Scans, relays PB-ADV links to unprovisioned devices in its range, and
 * carries out the three node refreshes on itself.  A Composition Refresh
 * rebuilds the node from page 128 at the next tick, keeping address, keys,
 * IV Index, SEQ and node-wide configuration but not model states
 * (bindings, subscriptions, publications: the Configuration Client
 * re-configures the new models); page 128 is gone afterwards.
 *
 * Control commands: "status" ("provisioned addr 0x0102 devkey 1a2b3c4d",
 * plus " candidate 5e6f7a8b" during a Device Key Refresh and " power off"
 * while off: key fingerprints, never keys), "input VALUE", "onoff" (the
 * lights' states), "comp128 HEX" (put a new Composition Data page 128 in
 * place, as a device does after a firmware change), "reset" (factory
 * reset), "power off" (neither receives, transmits nor runs timers; what
 * was already queued on the air still goes out), "power on" (a power
 * cycle: the device restarts from its stored state, losing sessions and
 * links in progress).
 */
#ifndef SIM_NODE_DEV_H
#define SIM_NODE_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/world.h"

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
