/*
 * Port framings (port.h, sim/PORTS.md).  Everything that arrives on a port
 * from outside is parsed here through struct mesh_rbuf.
 */
#include "sim/port.h"

#include <errno.h>
#include <string.h>

#include "mesh/buf.h"

static bool printable(uint8_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

static int32_t rbuf_le32s(struct mesh_rbuf *b)
{
	return (int32_t)mesh_rbuf_le32(b);
}

static uint64_t rbuf_le64(struct mesh_rbuf *b)
{
	uint64_t lo = mesh_rbuf_le32(b);

	return lo | ((uint64_t)mesh_rbuf_le32(b) << 32);
}

static void wbuf_le64(struct mesh_wbuf *b, uint64_t v)
{
	mesh_wbuf_le32(b, (uint32_t)v);
	mesh_wbuf_le32(b, (uint32_t)(v >> 32));
}

/* len octets of AD data after a length octet that must match what is left. */
static bool read_ad(struct mesh_rbuf *b, struct sim_port_msg *m)
{
	m->ad_type = mesh_rbuf_u8(b);
	m->len = mesh_rbuf_u8(b);
	if (!mesh_rbuf_ok(b) || m->ad_type == 0 || m->len > SIM_PORT_DATA_MAX) {
		return false;
	}
	return mesh_rbuf_copy(b, m->data, m->len);
}

int sim_port_decode(const uint8_t *buf, size_t len, struct sim_port_msg *out)
{
	struct mesh_rbuf b;
	struct sim_port_msg m;
	uint8_t n;

	memset(&m, 0, sizeof(m));
	mesh_rbuf_init(&b, buf, len);
	if (mesh_rbuf_u8(&b) != SIM_PORT_VERSION) {
		return -EBADMSG;
	}
	m.kind = (enum sim_port_kind)mesh_rbuf_u8(&b);
	if (!mesh_rbuf_ok(&b)) {
		return -EBADMSG;
	}
	switch (m.kind) {
	case SIM_PORT_HELLO:
	case SIM_PORT_MOVE:
		m.x_mm = rbuf_le32s(&b);
		m.y_mm = rbuf_le32s(&b);
		m.z_mm = rbuf_le32s(&b);
		if (m.kind == SIM_PORT_MOVE) {
			break;
		}
		n = mesh_rbuf_u8(&b);
		if (!mesh_rbuf_ok(&b) || n < 1 || n > SIM_PORT_NAME_MAX ||
		    !mesh_rbuf_copy(&b, m.name, n)) {
			return -EBADMSG;
		}
		for (uint8_t i = 0; i < n; i++) {
			if (!printable((uint8_t)m.name[i])) {
				return -EBADMSG;
			}
		}
		m.name[n] = '\0';
		break;
	case SIM_PORT_WELCOME:
		m.pid = mesh_rbuf_le32(&b);
		break;
	case SIM_PORT_ADV_TX:
		m.count = mesh_rbuf_u8(&b);
		m.interval_ms = mesh_rbuf_le16(&b);
		if (!mesh_rbuf_ok(&b) || m.count < 1 || m.count > SIM_PORT_COUNT_MAX ||
		    m.interval_ms > SIM_PORT_INTERVAL_MAX || !read_ad(&b, &m)) {
			return -EBADMSG;
		}
		break;
	case SIM_PORT_ADV_RX:
		m.rssi = (int8_t)mesh_rbuf_u8(&b);
		m.time_us = rbuf_le64(&b);
		if (!read_ad(&b, &m)) {
			return -EBADMSG;
		}
		break;
	case SIM_PORT_DETACH:
		break;
	case SIM_PORT_ERROR:
		m.err = mesh_rbuf_u8(&b);
		m.err_kind = mesh_rbuf_u8(&b);
		if (m.err == 0) {
			return -EBADMSG;
		}
		break;
	default:
		return -EBADMSG;
	}
	if (!mesh_rbuf_done(&b)) {
		return -EBADMSG;
	}
	*out = m;
	return 0;
}

static bool ad_ok(const struct sim_port_msg *m)
{
	return m->ad_type != 0 && m->len <= SIM_PORT_DATA_MAX;
}

int sim_port_encode(const struct sim_port_msg *m, uint8_t *buf, size_t cap, size_t *out_len)
{
	struct mesh_wbuf b;
	size_t n;

	mesh_wbuf_init(&b, buf, cap);
	mesh_wbuf_u8(&b, SIM_PORT_VERSION);
	mesh_wbuf_u8(&b, (uint8_t)m->kind);
	switch (m->kind) {
	case SIM_PORT_HELLO:
	case SIM_PORT_MOVE:
		mesh_wbuf_le32(&b, (uint32_t)m->x_mm);
		mesh_wbuf_le32(&b, (uint32_t)m->y_mm);
		mesh_wbuf_le32(&b, (uint32_t)m->z_mm);
		if (m->kind == SIM_PORT_MOVE) {
			break;
		}
		n = strnlen(m->name, SIM_PORT_NAME_MAX + 1);
		if (n < 1 || n > SIM_PORT_NAME_MAX) {
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++) {
			if (!printable((uint8_t)m->name[i])) {
				return -EINVAL;
			}
		}
		mesh_wbuf_u8(&b, (uint8_t)n);
		mesh_wbuf_mem(&b, m->name, n);
		break;
	case SIM_PORT_WELCOME:
		mesh_wbuf_le32(&b, m->pid);
		break;
	case SIM_PORT_ADV_TX:
		if (!ad_ok(m) || m->count < 1 || m->count > SIM_PORT_COUNT_MAX ||
		    m->interval_ms > SIM_PORT_INTERVAL_MAX) {
			return -EINVAL;
		}
		mesh_wbuf_u8(&b, m->count);
		mesh_wbuf_le16(&b, m->interval_ms);
		mesh_wbuf_u8(&b, m->ad_type);
		mesh_wbuf_u8(&b, m->len);
		mesh_wbuf_mem(&b, m->data, m->len);
		break;
	case SIM_PORT_ADV_RX:
		if (!ad_ok(m)) {
			return -EINVAL;
		}
		mesh_wbuf_u8(&b, (uint8_t)m->rssi);
		wbuf_le64(&b, m->time_us);
		mesh_wbuf_u8(&b, m->ad_type);
		mesh_wbuf_u8(&b, m->len);
		mesh_wbuf_mem(&b, m->data, m->len);
		break;
	case SIM_PORT_DETACH:
		break;
	case SIM_PORT_ERROR:
		if (m->err == 0) {
			return -EINVAL;
		}
		mesh_wbuf_u8(&b, m->err);
		mesh_wbuf_u8(&b, m->err_kind);
		break;
	default:
		return -EINVAL;
	}
	if (b.err) {
		return -ENOSPC;
	}
	*out_len = b.len;
	return 0;
}

/* --- BlueZ unit framing ------------------------------------------------- */

int sim_port_bluez_decode(const uint8_t *buf, size_t len, struct sim_port_bluez_msg *out)
{
	struct mesh_rbuf b;
	struct sim_port_bluez_msg m;
	const uint8_t *p;
	size_t n;

	memset(&m, 0, sizeof(m));
	mesh_rbuf_init(&b, buf, len);
	m.ad_type = mesh_rbuf_u8(&b);
	if (!mesh_rbuf_ok(&b)) {
		return -EBADMSG;
	}
	if (m.ad_type == 0) {
		/* Name reply: [0x00][name][NUL]; the NUL must be the last octet. */
		n = b.len;
		p = mesh_rbuf_pull(&b, n);
		if (!p || n < 2 || n - 1 > SIM_PORT_BLUEZ_NAME_MAX || p[n - 1] != 0) {
			return -EBADMSG;
		}
		for (size_t i = 0; i + 1 < n; i++) {
			if (!printable(p[i])) {
				return -EBADMSG;
			}
		}
		memcpy(m.name, p, n);
		m.is_name = true;
		*out = m;
		return 0;
	}
	n = b.len;
	if (n > SIM_PORT_DATA_MAX || !mesh_rbuf_copy(&b, m.data, n)) {
		return -EBADMSG;
	}
	m.len = (uint8_t)n;
	*out = m;
	return 0;
}

int sim_port_bluez_encode_rx(uint8_t ad_type, const uint8_t *data, size_t len, uint8_t *buf,
			     size_t cap, size_t *out_len)
{
	struct mesh_wbuf b;

	if (ad_type == 0 || len > SIM_PORT_DATA_MAX || (len && !data)) {
		return -EINVAL;
	}
	mesh_wbuf_init(&b, buf, cap);
	mesh_wbuf_u8(&b, SIM_PORT_BLUEZ_RX_MARK);
	mesh_wbuf_u8(&b, ad_type);
	mesh_wbuf_mem(&b, data, len);
	if (b.err) {
		return -ENOSPC;
	}
	*out_len = b.len;
	return 0;
}

int sim_port_bluez_encode_query(uint8_t *buf, size_t cap, size_t *out_len)
{
	if (cap < 1) {
		return -ENOSPC;
	}
	buf[0] = 0x00;
	*out_len = 1;
	return 0;
}
