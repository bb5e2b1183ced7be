/*
 * Access layer (Mesh Protocol v1.1 §3.7): opcodes, the decoded access
 * message that upper transport hands up, and the element/model registry
 * that dispatches it to model handlers.
 *
 * Opcodes are held as a uint32_t whose value is their on-air octets read
 * big-endian (§3.7.3.1):
 *   1 octet   0x00..0x7e                 (0x7f is RFU)
 *   2 octets  0x8000..0xbfff             e.g. 0x8003 AppKey Status
 *   3 octets  0xc00000..0xffffff         6-bit opcode, then Company ID LE:
 *             MESH_ACC_OP_VND(0x15, 0x000a) == 0xd50a00 (sample #21)
 * so the width follows from the value alone.
 *
 * The registry (struct mesh_acc) is one node's elements and models.  It owns
 * per-model state the Config Server manipulates: AppKey bindings,
 * subscriptions and publication parameters.  It never sends anything:
 * handlers get the message and a user pointer and do the rest.
 */
#ifndef MESH_ACCESS_H
#define MESH_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mesh/buf.h"
#include "mesh/comp.h"

#define MESH_ACC_PAYLOAD_MAX 380 /* opcode + parameters, §3.7.3 */
/*
 * The longest access payload that fits one unsegmented Lower Transport
 * Access PDU: 15 octets of Upper Transport PDU minus the 32-bit TransMIC
 * (§3.5.2.1).  Longer payloads, or any payload sent with a 64-bit TransMIC,
 * go segmented.
 */
#define MESH_ACC_UNSEG_MAX 11

/* Marker for "secured with a device key" in app_idx fields. */
#define MESH_APP_IDX_DEV 0xffff

#define MESH_ACC_OP_VND(op6, cid)                                                                  \
	((uint32_t)0xc00000 | ((uint32_t)((op6)&0x3f) << 16) | ((uint32_t)((cid)&0xff) << 8) |     \
	 ((uint32_t)(cid) >> 8 & 0xff))

/* True when op is a value the encoding above can carry. */
bool mesh_acc_op_valid(uint32_t op);
/* 1, 2 or 3 octets; 0 when op is not valid. */
size_t mesh_acc_op_len(uint32_t op);
/* Company ID of a 3-octet opcode. */
uint16_t mesh_acc_op_cid(uint32_t op);

/*
 * Read an opcode from the front of an access payload.  Returns 0 and sets
 * *op and *op_len, or -EBADMSG for an empty payload, the RFU opcode 0x7f or
 * a 2-/3-octet opcode cut short.
 */
int mesh_acc_op_decode(const uint8_t *p, size_t len, uint32_t *op, size_t *op_len);

/* Append op to w.  Returns 0, -EINVAL for an invalid op, -ENOSPC when w is full. */
int mesh_acc_op_put(struct mesh_wbuf *w, uint32_t op);

/*
 * Build an access payload opcode ‖ params into out (capacity cap) and store
 * its length in *len.  Returns 0, -EINVAL (invalid op, or longer than
 * MESH_ACC_PAYLOAD_MAX), -ENOSPC (cap too small).
 */
int mesh_acc_payload_build(uint32_t op, const uint8_t *params, size_t params_len, uint8_t *out,
			   size_t cap, size_t *len);

/*
 * A decrypted, opcode-decoded access message (mesh_utp_decrypt() fills it).
 * Pointers are borrowed: `params` points into the plaintext buffer given to
 * the decrypt call, `label` into the key store that supplied it; both are
 * valid only as long as those are.
 */
struct mesh_acc_msg {
	uint16_t net_idx;
	uint16_t app_idx;  /* AppKey Index, or MESH_APP_IDX_DEV */
	uint8_t dev_cand;  /* device key: which candidate (0 = first offered) */
	uint32_t iv_index; /* IV Index of SeqAuth */
	uint32_t seq;      /* low 24 bits of SeqAuth */
	uint16_t src;
	uint16_t dst;
	const uint8_t *label; /* Label UUID (16 octets) when dst is virtual, else NULL */
	uint8_t ttl;
	uint32_t opcode;
	const uint8_t *params;
	size_t len;
};

/* --- Registry ----------------------------------------------------------- */

/* Per-model capacities; a Config Server answers Insufficient Resources beyond them. */
#define MESH_ACC_BIND_MAX 16
#define MESH_ACC_SUB_MAX 16

struct mesh_model_id {
	bool vendor;
	uint16_t cid; /* Company ID; vendor models only */
	uint16_t id;
};

struct mesh_acc;
struct mesh_acc_model;

/*
 * One row of a model's opcode table.  Messages shorter than min_len or
 * longer than max_len (-1: no bound) octets of parameters are dropped
 * before any handler runs (§3.7.4).  The handler's return value is passed
 * back by mesh_acc_dispatch().
 */
struct mesh_acc_op {
	uint32_t opcode;
	uint16_t min_len;
	int16_t max_len;
	int (*handler)(struct mesh_acc_model *mdl, const struct mesh_acc_msg *msg, void *user);
};

/*
 * Model flag: secured with the device key only (Config Server, Remote
 * Provisioning Server, §4.4.1): it takes device-key messages and cannot be
 * bound to an AppKey.  Other models take only AppKey messages for AppKeys
 * they are bound to (§4.2.7); see mesh_acc_dispatch().
 */
#define MESH_ACC_MODEL_DEV_KEY 0x01

/* Publication parameters (§4.2.3); the registry stores, never acts on them. */
struct mesh_acc_pub {
	uint16_t addr;     /* MESH_ADDR_UNASSIGNED: publication disabled */
	uint8_t label[16]; /* when addr is virtual */
	uint16_t app_idx;
	bool cred; /* friendship credentials */
	uint8_t ttl;
	uint8_t period;     /* Publish Period octet: steps(6) ‖ resolution(2) */
	uint8_t retransmit; /* count(3) ‖ interval steps(5) */
};

/* Returns a new empty registry (no address); free with mesh_acc_free(). NULL: no memory. */
struct mesh_acc *mesh_acc_new(void);
void mesh_acc_free(struct mesh_acc *acc);

/*
 * The primary element's unicast address (set at provisioning); element i
 * has address primary + i.  MESH_ADDR_UNASSIGNED until then, when unicast
 * messages reach no element.  -EINVAL when addr is not unicast or the
 * elements would run past 0x7fff.
 */
int mesh_acc_set_primary(struct mesh_acc *acc, uint16_t addr);
uint16_t mesh_acc_primary(const struct mesh_acc *acc);

/* Add an element; returns its index (0 = primary), -ENOSPC past 255, -ENOMEM. */
int mesh_acc_elem_add(struct mesh_acc *acc, uint16_t loc);
size_t mesh_acc_elem_count(const struct mesh_acc *acc);

/*
 * Add a model to element `elem`.  ops (n_ops rows) and user are borrowed
 * and must outlive the registry.  On success *out (if not NULL) is the
 * model, borrowed; valid until mesh_acc_free().  Returns -EINVAL (no such
 * element, invalid opcode in ops), -EEXIST (the element already has this
 * model, or an opcode another model of the element handles, §3.7.3.1),
 * -ENOMEM.  Handlers must not add elements or models.
 */
int mesh_acc_model_add(struct mesh_acc *acc, uint8_t elem, struct mesh_model_id id, unsigned flags,
		       const struct mesh_acc_op *ops, size_t n_ops, void *user,
		       struct mesh_acc_model **out);

/*
 * Unregister a model added by mesh_acc_model_add() and free it (its
 * bindings, subscriptions and publication go with it); mdl is invalid
 * afterwards.  The owner of a model calls this when it frees its user data
 * before the node.  Returns 0, or -ENOENT when mdl is not registered here.
 * Not from a handler.
 */
int mesh_acc_model_del(struct mesh_acc *acc, struct mesh_acc_model *mdl);

/* Borrowed; NULL when absent. */
struct mesh_acc_model *mesh_acc_model_find(const struct mesh_acc *acc, uint8_t elem,
					   struct mesh_model_id id);
/* Lookup by element address (Config messages carry ElementAddress); borrowed or NULL. */
struct mesh_acc_model *mesh_acc_model_find_addr(const struct mesh_acc *acc, uint16_t elem_addr,
						struct mesh_model_id id);

struct mesh_model_id mesh_acc_model_id(const struct mesh_acc_model *mdl);
uint8_t mesh_acc_model_elem(const struct mesh_acc_model *mdl);
void *mesh_acc_model_user(const struct mesh_acc_model *mdl);

/*
 * AppKey bindings (Model to AppKey List, §4.2.7).  Binding an already bound key
 * succeeds, as Config Model App Bind does.  bind: -EINVAL (index > 0xfff or
 * a device-key model), -ENOSPC.  unbind: -ENOENT when not bound.
 */
int mesh_acc_model_bind(struct mesh_acc_model *mdl, uint16_t app_idx);
int mesh_acc_model_unbind(struct mesh_acc_model *mdl, uint16_t app_idx);
bool mesh_acc_model_bound(const struct mesh_acc_model *mdl, uint16_t app_idx);
/* Copies up to max bound indexes to out; returns how many are bound. */
size_t mesh_acc_model_bindings(const struct mesh_acc_model *mdl, uint16_t *out, size_t max);
/* Deleting an AppKey removes its bindings from every model (§4.2.6); returns how many. */
size_t mesh_acc_unbind_all(struct mesh_acc *acc, uint16_t app_idx);

/*
 * Subscription list (§4.2.4).  addr is a group address other than
 * all-nodes (label NULL), or a virtual address with its 16-octet Label
 * UUID.  Adding an existing entry succeeds.  add: -EINVAL, -ENOSPC.
 * del: -ENOENT when absent.
 */
int mesh_acc_model_sub_add(struct mesh_acc_model *mdl, uint16_t addr, const uint8_t *label);
int mesh_acc_model_sub_del(struct mesh_acc_model *mdl, uint16_t addr, const uint8_t *label);
void mesh_acc_model_sub_clear(struct mesh_acc_model *mdl);
bool mesh_acc_model_subscribed(const struct mesh_acc_model *mdl, uint16_t addr,
			       const uint8_t *label);
/* Copies up to max addresses to out; returns the list's length. */
size_t mesh_acc_model_subs(const struct mesh_acc_model *mdl, uint16_t *out, size_t max);
/*
 * The pos-th entry of the list (for storage): its address in *addr and, when
 * the address is virtual and label is not NULL, its Label UUID in label.
 * -ENOENT past the end.
 */
int mesh_acc_model_sub_at(const struct mesh_acc_model *mdl, size_t pos, uint16_t *addr,
			  uint8_t label[16]);

/*
 * Publication (§4.2.3).  set: -EINVAL when ttl is neither 0x00..0x7f nor
 * 0xff (use Default TTL), or app_idx > 0xfff.  That a virtual addr matches
 * its label is the caller's business (it holds the CMAC).
 */
int mesh_acc_model_pub_set(struct mesh_acc_model *mdl, const struct mesh_acc_pub *pub);
void mesh_acc_model_pub_get(const struct mesh_acc_model *mdl, struct mesh_acc_pub *pub);

/*
 * Deliver msg to the models it is for (§3.7.4):
 *  - unicast dst: the models of the element at that address;
 *  - group/virtual dst: every model subscribed to it (virtual: same label);
 *  - fixed group addresses (all-proxies/friends/relays/nodes): the models of
 *    the primary element, plus models elsewhere subscribed to it.  Whether
 *    the node listens to all-relays etc. at all is the lower layers' call.
 * A model takes the message only when the key fits: device-key models only
 * device-key messages, other models only AppKeys they are bound to.
 *
 * Lengths are checked for every receiving model before any handler runs.
 * Returns 0 when at least one handler ran (then the first negative handler
 * result, if any), -EBADMSG when a receiving model's opcode row rejects the
 * parameter length (no handler runs), -EACCES when models know the opcode
 * but none may take it under this key, -ENOENT when no addressed model knows
 * the opcode (or nothing is addressed).  *n_handled (may be NULL) is the
 * number of handlers that ran.
 */
int mesh_acc_dispatch(struct mesh_acc *acc, const struct mesh_acc_msg *msg, size_t *n_handled);

/*
 * Fill the elements and models of a Composition Data page from the
 * registry, leaving CID/PID/VID/CRPL/Features for the caller.  Returns 0 or
 * -ENOSPC when the registry does not fit one page.
 */
int mesh_acc_comp(const struct mesh_acc *acc, struct mesh_comp *comp);

#endif /* MESH_ACCESS_H */
