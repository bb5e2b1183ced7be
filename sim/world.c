/*
 * The pure world of meshsim (world.h): the air plus the simulated devices,
 * with no I/O and no clock.  The process around it is loop.c.
 */
#include "sim/world.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dev {
	struct sim_world *w;
	unsigned idx;
	const struct sim_scn_device *cfg;
	const struct sim_device_ops *ops; /* NULL: not hosted, a silent participant */
	void *obj;
	uint32_t pid;
	uint64_t dl; /* cached next_deadline(), refreshed after every call into the device */
};

struct disp {
	uint64_t t;
	unsigned dev;
	char text[SIM_WORLD_TEXT_MAX + 1];
};

struct sim_world {
	struct sim_air *air;
	uint64_t seed;
	const struct sim_device_ops *const *kinds;
	size_t n_kinds;
	struct dev **devs; /* separately allocated: each is the air callback's ctx */
	unsigned n_devs, cap_devs;
	struct disp disp[SIM_WORLD_DISPLAY_MAX];
	unsigned disp_next, disp_n;
	void (*disp_fn)(void *ctx, unsigned dev, const char *name, const char *text);
	void *disp_ctx;
};

struct sim_world *sim_world_new(uint64_t seed, const struct sim_air_params *p,
				const struct sim_device_ops *const *kinds, size_t n_kinds)
{
	struct sim_world *w;

	if (n_kinds && !kinds) {
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		return NULL;
	}
	w->air = sim_air_new(seed, p);
	if (!w->air) {
		free(w);
		return NULL;
	}
	w->seed = seed;
	w->kinds = kinds;
	w->n_kinds = n_kinds;
	return w;
}

void sim_world_free(struct sim_world *w)
{
	if (!w) {
		return;
	}
	for (unsigned i = 0; i < w->n_devs; i++) {
		struct dev *d = w->devs[i];

		if (d->ops && d->ops->free) {
			d->ops->free(d->obj);
		}
		free(d);
	}
	free(w->devs);
	sim_air_free(w->air);
	free(w);
}

struct sim_air *sim_world_air(struct sim_world *w)
{
	return w->air;
}

static uint64_t dev_deadline(const struct dev *d)
{
	if (!d->ops || !d->obj || !d->ops->next_deadline || !d->ops->tick) {
		return UINT64_MAX;
	}
	return d->ops->next_deadline(d->obj);
}

static void dev_rx(void *ctx, const struct sim_air_rx *rx)
{
	struct dev *d = ctx;

	if (d->ops && d->obj && d->ops->rx) {
		d->ops->rx(d->obj, rx);
		d->dl = dev_deadline(d);
	}
}

/* A per-device seed: distinct, and reproducible from the world's seed. */
static uint64_t dev_seed(uint64_t seed, unsigned idx)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (idx + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int sim_world_add_device(struct sim_world *w, const struct sim_scn_device *cfg, uint64_t now_us,
			 unsigned *out)
{
	struct dev *d;
	int err;

	if (!cfg || !out) {
		return -EINVAL;
	}
	if (w->n_devs == w->cap_devs) {
		unsigned cap = w->cap_devs ? w->cap_devs * 2 : 16;
		struct dev **nd = realloc(w->devs, cap * sizeof(*nd));

		if (!nd) {
			return -ENOMEM;
		}
		w->devs = nd;
		w->cap_devs = cap;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		return -ENOMEM;
	}
	d->w = w;
	d->idx = w->n_devs;
	d->cfg = cfg;
	for (size_t k = 0; k < w->n_kinds; k++) {
		if (w->kinds[k] && !strcmp(w->kinds[k]->kind, cfg->kind)) {
			d->ops = w->kinds[k];
		}
	}
	err = sim_air_add(w->air, &cfg->pos, cfg->name, dev_rx, d, &d->pid);
	if (err < 0) {
		free(d);
		return err;
	}
	/* Registered before create() so that a device may transmit from create(). */
	d->dl = UINT64_MAX;
	w->devs[w->n_devs++] = d;
	if (d->ops) {
		err = d->ops->create(w, d->idx, cfg, dev_seed(w->seed, d->idx), now_us, &d->obj);
		if (err < 0) {
			w->n_devs--;
			sim_air_remove(w->air, d->pid);
			free(d);
			return err;
		}
		d->dl = dev_deadline(d);
	}
	*out = d->idx;
	return 0;
}

unsigned sim_world_n_devices(const struct sim_world *w)
{
	return w->n_devs;
}

uint32_t sim_world_device_pid(const struct sim_world *w, unsigned dev)
{
	return dev < w->n_devs ? w->devs[dev]->pid : SIM_AIR_NONE;
}

void *sim_world_device(const struct sim_world *w, unsigned dev)
{
	return dev < w->n_devs ? w->devs[dev]->obj : NULL;
}

const struct sim_scn_device *sim_world_device_cfg(const struct sim_world *w, unsigned dev)
{
	return dev < w->n_devs ? w->devs[dev]->cfg : NULL;
}

int sim_world_send(struct sim_world *w, unsigned dev, uint8_t ad_type, const uint8_t *data,
		   size_t len, unsigned count, unsigned interval_ms, uint64_t now_us)
{
	if (dev >= w->n_devs) {
		return -ENOENT;
	}
	return sim_air_send(w->air, w->devs[dev]->pid, ad_type, data, len, count, interval_ms,
			    now_us);
}

void sim_world_display(struct sim_world *w, unsigned dev, const char *text, uint64_t now_us)
{
	struct disp *e = &w->disp[w->disp_next];

	if (dev >= w->n_devs || !text) {
		return;
	}
	e->t = now_us;
	e->dev = dev;
	snprintf(e->text, sizeof(e->text), "%s", text);
	w->disp_next = (w->disp_next + 1) % SIM_WORLD_DISPLAY_MAX;
	if (w->disp_n < SIM_WORLD_DISPLAY_MAX) {
		w->disp_n++;
	}
	if (w->disp_fn) {
		w->disp_fn(w->disp_ctx, dev, w->devs[dev]->cfg->name, e->text);
	}
}

void sim_world_set_display_hook(struct sim_world *w,
				void (*fn)(void *ctx, unsigned dev, const char *name,
					   const char *text),
				void *ctx)
{
	w->disp_fn = fn;
	w->disp_ctx = ctx;
}

uint64_t sim_world_next_deadline(const struct sim_world *w)
{
	uint64_t t = sim_air_next_deadline(w->air);

	/* Cached: a device's deadline only changes when the world calls into it. */
	for (unsigned i = 0; i < w->n_devs; i++) {
		if (w->devs[i]->dl < t) {
			t = w->devs[i]->dl;
		}
	}
	return t;
}

void sim_world_tick(struct sim_world *w, uint64_t now_us)
{
	/*
	 * Devices woken here may transmit at once, and what they send may be due
	 * before now_us as well; repeat until nothing is due.  The bound stops a
	 * device that never moves its deadline from hanging the process.
	 */
	for (int round = 0; round < 64; round++) {
		bool ran = false;

		if (sim_air_next_deadline(w->air) <= now_us) {
			sim_air_tick(w->air, now_us);
			ran = true;
		}
		for (unsigned i = 0; i < w->n_devs; i++) {
			struct dev *d = w->devs[i];

			if (d->dl <= now_us) {
				d->ops->tick(d->obj, now_us);
				d->dl = dev_deadline(d);
				ran = true;
			}
		}
		if (!ran) {
			break;
		}
	}
}

void sim_world_uuid_hex(const uint8_t uuid[16], char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[uuid[i] >> 4];
		out[2 * i + 1] = digits[uuid[i] & 15];
	}
	out[32] = '\0';
}

json_t *sim_world_list_json(const struct sim_world *w)
{
	json_t *arr = json_array();

	if (!arr) {
		return NULL;
	}
	for (unsigned i = 0; i < w->n_devs; i++) {
		const struct dev *d = w->devs[i];
		char uuid[33];
		json_t *o;

		sim_world_uuid_hex(d->cfg->uuid, uuid);
		o = json_pack("{sIsssssssIsbs{sfsfsf}}", "id", (json_int_t)i, "name", d->cfg->name,
			      "kind", d->cfg->kind, "uuid", uuid, "pid", (json_int_t)d->pid,
			      "hosted", d->obj != NULL, "position", "x", d->cfg->pos.x, "y",
			      d->cfg->pos.y, "z", d->cfg->pos.z);
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *sim_world_displays_json(const struct sim_world *w)
{
	json_t *arr = json_array();
	unsigned first = (w->disp_next + SIM_WORLD_DISPLAY_MAX - w->disp_n) % SIM_WORLD_DISPLAY_MAX;

	if (!arr) {
		return NULL;
	}
	for (unsigned k = 0; k < w->disp_n; k++) {
		const struct disp *e = &w->disp[(first + k) % SIM_WORLD_DISPLAY_MAX];
		json_t *o = json_pack("{sIsIssss}", "time_us", (json_int_t)e->t, "device",
				      (json_int_t)e->dev, "name", w->devs[e->dev]->cfg->name,
				      "text", e->text);

		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

int sim_world_device_ctl(struct sim_world *w, unsigned dev, const char *args, uint64_t now_us,
			 char *out, size_t cap)
{
	struct dev *d;
	int err;

	if (dev >= w->n_devs) {
		return -ENOENT;
	}
	d = w->devs[dev];
	if (!d->obj || !d->ops->ctl) {
		return -ENOTSUP;
	}
	err = d->ops->ctl(d->obj, args ? args : "", now_us, out, cap);
	d->dl = dev_deadline(d);
	return err;
}

json_t *sim_world_save_json(const struct sim_world *w)
{
	json_t *devs = json_object();

	if (!devs) {
		return NULL;
	}
	for (unsigned i = 0; i < w->n_devs; i++) {
		const struct dev *d = w->devs[i];
		char uuid[33];
		json_t *st;

		if (!d->obj || !d->ops->save || !(st = d->ops->save(d->obj))) {
			continue;
		}
		sim_world_uuid_hex(d->cfg->uuid, uuid);
		json_object_set_new(devs, uuid, st);
	}
	return json_pack("{sIso}", "meshsim_state", (json_int_t)1, "devices", devs);
}

int sim_world_load_json(struct sim_world *w, json_t *state, uint64_t now_us)
{
	json_t *devs = json_object_get(state, "devices");
	int rc = 0;

	if (!json_is_object(devs)) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < w->n_devs; i++) {
		struct dev *d = w->devs[i];
		char uuid[33];
		json_t *st;
		int err;

		sim_world_uuid_hex(d->cfg->uuid, uuid);
		st = json_object_get(devs, uuid);
		if (!st || !d->obj || !d->ops->load) {
			continue;
		}
		err = d->ops->load(d->obj, st, now_us);
		d->dl = dev_deadline(d);
		if (err < 0 && rc == 0) {
			rc = err;
		}
	}
	return rc;
}
