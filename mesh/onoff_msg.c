/*
 * Generic OnOff message codec (Mesh Model v1.1 §3.2.1).
 *
 * Decoding reads every field through a bounded cursor and checks the whole
 * length once at the end; encoding runs the same value checks first, so any
 * struct that encodes also decodes to itself.
 */
#include "mesh/onoff_msg.h"

#include <errno.h>

#include "mesh/buf.h"

/* Generic OnOff state: 0x02-0xff prohibited (Mesh Model §3.1.1). */
#define ONOFF_MAX 0x01
#define TT_STEPS_MASK 0x3f

static bool set_check(const struct onoff_set *m)
{
	if (m->onoff > ONOFF_MAX) {
		return false;
	}
	/* A Set asks for a transition of known length; 0x3f steps is "unknown" (§3.1.3). */
	return !m->has_transition || (m->transition & TT_STEPS_MASK) != ONOFF_TT_STEPS_UNKNOWN;
}

static bool status_check(const struct onoff_status *m)
{
	return m->present <= ONOFF_MAX && (!m->has_target || m->target <= ONOFF_MAX);
}

int onoff_msg_set_encode(const struct onoff_set *m, uint8_t *out, size_t cap, size_t *len)
{
	struct mesh_wbuf w;

	if (!m || !len || (!out && cap) || !set_check(m)) {
		return -EINVAL;
	}
	mesh_wbuf_init(&w, out, cap);
	mesh_wbuf_u8(&w, m->onoff);
	mesh_wbuf_u8(&w, m->tid);
	if (m->has_transition) {
		mesh_wbuf_u8(&w, m->transition);
		mesh_wbuf_u8(&w, m->delay);
	}
	if (w.err) {
		return -ENOSPC;
	}
	*len = w.len;
	return 0;
}

int onoff_msg_set_decode(const uint8_t *params, size_t len, struct onoff_set *out)
{
	struct onoff_set m = {0};
	struct mesh_rbuf r;

	if (!out || (!params && len)) {
		return -EINVAL;
	}
	/* Two octets, or four with Transition Time and Delay; Delay never comes alone. */
	if (len != 2 && len != 4) {
		return -EBADMSG;
	}
	mesh_rbuf_init(&r, params, len);
	m.onoff = mesh_rbuf_u8(&r);
	m.tid = mesh_rbuf_u8(&r);
	if (len == 4) {
		m.has_transition = true;
		m.transition = mesh_rbuf_u8(&r);
		m.delay = mesh_rbuf_u8(&r);
	}
	if (!mesh_rbuf_done(&r) || !set_check(&m)) {
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

int onoff_msg_status_encode(const struct onoff_status *m, uint8_t *out, size_t cap, size_t *len)
{
	struct mesh_wbuf w;

	if (!m || !len || (!out && cap) || !status_check(m)) {
		return -EINVAL;
	}
	mesh_wbuf_init(&w, out, cap);
	mesh_wbuf_u8(&w, m->present);
	if (m->has_target) {
		mesh_wbuf_u8(&w, m->target);
		mesh_wbuf_u8(&w, m->remaining);
	}
	if (w.err) {
		return -ENOSPC;
	}
	*len = w.len;
	return 0;
}

int onoff_msg_status_decode(const uint8_t *params, size_t len, struct onoff_status *out)
{
	struct onoff_status m = {0};
	struct mesh_rbuf r;

	if (!out || (!params && len)) {
		return -EINVAL;
	}
	/* One octet, or three with Target OnOff and Remaining Time. */
	if (len != 1 && len != 3) {
		return -EBADMSG;
	}
	mesh_rbuf_init(&r, params, len);
	m.present = mesh_rbuf_u8(&r);
	if (len == 3) {
		m.has_target = true;
		m.target = mesh_rbuf_u8(&r);
		m.remaining = mesh_rbuf_u8(&r);
	}
	if (!mesh_rbuf_done(&r) || !status_check(&m)) {
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

uint32_t onoff_tt_ms(uint8_t tt)
{
	static const uint32_t res_ms[4] = {100, 1000, 10000, 600000};
	uint8_t steps = tt & TT_STEPS_MASK;

	if (steps == ONOFF_TT_STEPS_UNKNOWN) {
		return ONOFF_TT_UNKNOWN_MS;
	}
	return steps * res_ms[tt >> 6];
}
