/*
 * Configuration Server model (Mesh Protocol v1.1 §4.4.1) on a struct
 * mesh_node: the node's keys, features, models' bindings, publications and
 * subscriptions, Key Refresh phases, heartbeat states and Node Reset,
 * answered from the Config messages of mesh/cfg_msg.h.  Secured with the
 * device key only.  Every meshsim device runs one.
 */
#ifndef MESH_CFG_SRV_H
#define MESH_CFG_SRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/node.h"

struct cfg_srv_config {
	uint16_t cid, pid, vid, crpl;
	uint16_t features;      /* MESH_FEAT_* the device supports (Composition Data) */
	const uint8_t *page128; /* Composition Data page 128, or NULL; copied */
	size_t page128_len;
};

struct cfg_srv_ops {
	void *ctx;
	/*
	 * Node Reset was received and its status sent: the owner must discard
	 * the node and make the device unprovisioned, AFTER the current call
	 * into the node returns (never free the node from this callback).
	 */
	void (*reset)(void *ctx);
	/* A configuration state changed (persist it).  May be NULL. */
	void (*changed)(void *ctx);
};

struct cfg_srv;

/*
 * Register the Config Server model (0x0000) on element 0 of node (elements
 * must exist) and return it; free with cfg_srv_free() before the node.
 * NULL on failure.
 */
struct cfg_srv *cfg_srv_new(struct mesh_node *node, const struct cfg_srv_config *cfg,
			    const struct cfg_srv_ops *ops);
void cfg_srv_free(struct cfg_srv *srv);

/* Replace page 128 (a composition change pending a refresh); NULL removes it. */
int cfg_srv_page128_set(struct cfg_srv *srv, const uint8_t *page, size_t len);

/* Build Composition Data page 0 from the node's registry; 0 or -ENOSPC. */
int cfg_srv_page0(const struct cfg_srv *srv, uint8_t *out, size_t cap, size_t *len);

/* Heartbeat publication state, as last set (for tests and status). */
struct cfg_srv_hb {
	uint16_t pub_dst, pub_features, pub_net_idx;
	uint8_t pub_count_log, pub_period_log, pub_ttl;
	uint16_t sub_src, sub_dst;
	uint8_t sub_period_log;
};
void cfg_srv_hb_get(const struct cfg_srv *srv, struct cfg_srv_hb *out);
/*
 * Restore the heartbeat states (from storage).  -EINVAL, nothing changed,
 * when a field is out of the range §4.2.17 / §4.2.18 allow or the
 * publication / subscription is half disabled (see cfg_srv_hb).
 */
int cfg_srv_hb_set(struct cfg_srv *srv, const struct cfg_srv_hb *hb);

#endif /* MESH_CFG_SRV_H */
