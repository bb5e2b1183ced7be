/*
 * Generic OnOff Server (Mesh Model §3.1.1, §3.3.1.2) on one element of a
 * struct mesh_node: the light a commissioning technician switches to check a
 * device.  Transitions complete at once (a simulated lamp has no ramp); a
 * repeated Set with the same TID from the same source within 6 s is not
 * applied again (§3.3.1.2.2, transaction identifier).
 */
#ifndef MESH_ONOFF_SRV_H
#define MESH_ONOFF_SRV_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh/node.h"

struct onoff_srv;

/*
 * Register on element elem (model 0x1000).  changed (may be NULL) is told the
 * new state.  Returns a new server, freed with onoff_srv_free() before the
 * node; NULL on failure.
 */
struct onoff_srv *onoff_srv_new(struct mesh_node *node, uint8_t elem,
				void (*changed)(void *ctx, uint8_t elem, bool on), void *ctx);
void onoff_srv_free(struct onoff_srv *srv);

bool onoff_srv_get(const struct onoff_srv *srv);
/* Set locally (e.g. restored state); no message is sent. */
void onoff_srv_set(struct onoff_srv *srv, bool on);
/* The model, to bind keys in tests; borrowed. */
struct mesh_acc_model *onoff_srv_model(struct onoff_srv *srv);

#endif
