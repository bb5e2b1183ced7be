/*
 * Mesh CDB import side (cdb.h): the shape check that turns a JSON document
 * into records, and the consistency check of those records.
 *
 * Every error names the JSON pointer of the member at fault.  Unknown
 * members are ignored, as the public tools do (BlueZ keeps "token" and
 * "ivIndex" beside the profile's members).
 */
#include "gateway/cdb.h"
#include "gateway/cdb_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Keys and provisioners ----------------------------------------------------- */

/* The members a NetKey and an AppKey share: "name" and "index" ... */
static int parse_key_head(struct cx *c, const json_t *v, char *name, uint16_t *idx)
{
	long long x = 0;
	int r = cdb_need_object(c, v);

	if (!r) {
		r = cdb_get_name(c, v, "name", false, name);
	}
	if (!r) {
		r = cdb_get_int(c, v, "index", true, NULL, 0, 4095, &x);
		*idx = (uint16_t)x;
	}
	return r;
}

/* ... and "key" (absent in a partial export) with "oldKey". */
static int parse_key_material(struct cx *c, const json_t *v, bool partial, uint8_t key[16],
			      bool *has_old, uint8_t old_key[16])
{
	int r = cdb_get_key(c, v, "key", !partial, NULL, key);

	if (!r) {
		r = cdb_get_key(c, v, "oldKey", false, has_old, old_key);
	}
	return r;
}

static int parse_netkey(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb *d = arg;
	struct store_cdb_netkey *k = &d->netkeys[i];
	long long x = 0;
	json_t *ms;
	int r = parse_key_head(c, v, k->name, &k->idx);

	if (!r) {
		r = parse_key_material(c, v, d->partial, k->key, &k->has_old, k->old_key);
	}
	if (!r) {
		r = cdb_get_int(c, v, "phase", true, NULL, 0, 2, &x);
		k->phase = (uint8_t)x;
	}
	if (!r && (ms = json_object_get(v, "minSecurity"))) {
		const char *s = json_string_value(ms);

		if (!s || (strcmp(s, "secure") && strcmp(s, "insecure"))) {
			r = cdb_fail_at(c, "minSecurity", "must be \"secure\" or \"insecure\"");
		} else {
			k->min_secure = !strcmp(s, "secure");
		}
	}
	if (!r && k->phase && !k->has_old && !d->partial) {
		r = cdb_fail(c, "phase %u needs oldKey", k->phase);
	}
	return r;
}

static int parse_appkey(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb *d = arg;
	struct store_cdb_appkey *k = &d->appkeys[i];
	long long x = 0;
	int r = parse_key_head(c, v, k->name, &k->idx);

	if (!r) {
		r = cdb_get_int(c, v, "boundNetKey", true, NULL, 0, 4095, &x);
		k->net_idx = (uint16_t)x;
	}
	return r ? r : parse_key_material(c, v, d->partial, k->key, &k->has_old, k->old_key);
}

/* Ranges {lowAddress, highAddress} (or {firstScene, lastScene}) inside [min, max]. */
struct range_spec {
	const char *key, *lo_key, *hi_key;
	uint16_t min, max;
};

static const struct range_spec range_specs[] = {
    {"allocatedUnicastRange", "lowAddress", "highAddress", 0x0001, 0x7fff},
    {"allocatedGroupRange", "lowAddress", "highAddress", 0xc000, 0xfeff},
    {"allocatedSceneRange", "firstScene", "lastScene", 0x0001, 0xffff},
};

struct range_out {
	const struct range_spec *spec;
	struct store_cdb_range *out;
};

static int parse_range(struct cx *c, const json_t *v, size_t i, void *arg)
{
	const struct range_out *ro = arg;
	const struct range_spec *rs = ro->spec;
	uint16_t lo = 0, hi = 0;
	int r = cdb_need_object(c, v);

	if (!r) {
		r = cdb_get_hex4(c, v, rs->lo_key, true, NULL, &lo);
	}
	if (!r) {
		r = cdb_get_hex4(c, v, rs->hi_key, true, NULL, &hi);
	}
	if (!r && (lo < rs->min || hi > rs->max)) {
		r = cdb_fail(c, "must lie within 0x%04x-0x%04x", rs->min, rs->max);
	}
	if (!r && lo > hi) {
		r = cdb_fail(c, "%s is above %s", rs->lo_key, rs->hi_key);
	}
	if (!r) {
		ro->out[i] = (struct store_cdb_range){lo, hi};
	}
	return r;
}

static int parse_prov(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb *d = arg;
	struct store_cdb_prov *p = &d->provs[i];
	struct store_cdb_range *out[] = {p->uni, p->grp, p->scene};
	size_t *n[] = {&p->n_uni, &p->n_grp, &p->n_scene};
	int r = cdb_need_object(c, v);

	if (!r) {
		r = cdb_get_name(c, v, "provisionerName", true, p->name);
	}
	if (!r) {
		r = cdb_get_uuid(c, v, "UUID", p->uuid);
	}
	if (!r) {
		/* Not a profile member: meshgw writes its own address here (cdb_enc.c). */
		r = cdb_get_hex4(c, v, "unicastAddress", false, NULL, &p->addr);
		if (!r && p->addr > 0x7fff) {
			r = cdb_fail_at(c, "unicastAddress",
					"must be a unicast address 0001..7fff");
		}
	}
	for (size_t k = 0; !r && k < sizeof(range_specs) / sizeof(range_specs[0]); k++) {
		const struct cdb_walk w = {range_specs[k].key, true, STORE_CDB_RANGES_MAX, 0,
					   false};
		struct range_out ro = {&range_specs[k], out[k]};

		r = cdb_each(c, v, &w, NULL, n[k], parse_range, &ro);
	}
	return r;
}

/* --- Groups, scenes, exclusions ---------------------------------------------------- */

/* The member key of v, an address (or Label UUID when label is not NULL). */
static int parse_addr_member(struct cx *c, const json_t *v, const char *key, uint16_t *addr,
			     bool *has_label, uint8_t label[16])
{
	json_t *a = cdb_member(c, v, key, true);
	size_t o;
	int r;

	if (!a) {
		return -EINVAL;
	}
	o = cdb_push(c, key);
	r = cdb_addr_or_label(c, a, addr, has_label, label);
	cdb_pop(c, o);
	return r;
}

static int parse_group(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb *d = arg;
	struct store_cdb_group *g = &d->groups[i];
	int r = cdb_need_object(c, v);

	if (!r) {
		r = cdb_get_name(c, v, "name", true, g->name);
	}
	if (!r) {
		r = parse_addr_member(c, v, "address", &g->addr, &g->has_label, g->label);
		if (!r && !g->has_label && g->addr < 0xc000) {
			r = cdb_fail_at(c, "address",
					"must be a group address c000..ffff or a Label UUID");
		}
	}
	if (!r) {
		r = parse_addr_member(c, v, "parentAddress", &g->parent, &g->parent_has_label,
				      g->parent_label);
	}
	return r;
}

static int parse_scene_addr(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct store_cdb_scene *s = arg;

	return cdb_addr_or_label(c, v, &s->addrs[i], NULL, NULL);
}

static int parse_scene(struct cx *c, const json_t *v, size_t i, void *arg)
{
	static const struct cdb_walk addrs = {"addresses", true, CDB_MAX_LIST, sizeof(uint16_t),
					      false};
	struct store_cdb *d = arg;
	struct store_cdb_scene *s = &d->scenes[i];
	int r = cdb_need_object(c, v);

	if (!r) {
		r = cdb_get_name(c, v, "name", true, s->name);
	}
	if (!r) {
		r = cdb_get_hex4(c, v, "number", true, NULL, &s->number);
		if (!r && s->number == 0) {
			r = cdb_fail(c, "number: scene 0000 is prohibited");
		}
	}
	if (!r) {
		r = cdb_each(c, v, &addrs, (void **)&s->addrs, &s->n_addrs, parse_scene_addr, s);
	}
	return r;
}

struct excl {
	struct store_cdb *d;
	uint32_t iv;
};

static int parse_excl_addr(struct cx *c, const json_t *v, size_t i, void *arg)
{
	struct excl *e = arg;
	uint16_t addr = 0;
	int r = cdb_addr_or_label(c, v, &addr, NULL, NULL);

	(void)i;
	if (!r && (addr == 0 || addr > 0x7fff)) {
		r = cdb_fail(c, "must be a unicast address 0001..7fff");
	}
	if (!r) {
		e->d->excl[e->d->n_excl++] = (struct store_cdb_excl){e->iv, addr};
	}
	return r;
}

static int parse_exclusion(struct cx *c, const json_t *v, size_t i, void *arg)
{
	static const struct cdb_walk addrs = {"addresses", true, CDB_MAX_LIST, 0, false};
	struct excl e = {arg, 0};
	long long iv = 0;
	int r = cdb_need_object(c, v);

	(void)i;
	if (!r) {
		r = cdb_get_int(c, v, "ivIndex", true, NULL, 0, 0xffffffffLL, &iv);
	}
	e.iv = (uint32_t)iv;
	return r ? r : cdb_each(c, v, &addrs, NULL, NULL, parse_excl_addr, &e);
}

static int parse_exclusions(struct cx *c, const json_t *root, struct store_cdb *d)
{
	static const struct cdb_walk w = {"networkExclusions", false, CDB_MAX_LIST, 0, false};
	json_t *arr = cdb_get_array(c, root, w.key, false, w.max), *v, *a;
	size_t i, total = 0;

	if (!arr) {
		return c->failed ? -EINVAL : 0;
	}
	json_array_foreach(arr, i, v)
	{
		a = json_object_get(v, "addresses");
		total += json_is_array(a) ? json_array_size(a) : 0;
	}
	if (total > CDB_MAX_LIST * 8) {
		return cdb_fail_at(c, w.key, "at most %d excluded addresses", CDB_MAX_LIST * 8);
	}
	d->excl = calloc(total + 1, sizeof(*d->excl));
	if (!d->excl) {
		return -ENOMEM;
	}
	return cdb_each(c, root, &w, NULL, NULL, parse_exclusion, d);
}

/* --- The document ------------------------------------------------------------ */

static int parse_header(struct cx *c, const json_t *root, struct store_cdb *d)
{
	static const char *const strings[] = {"$schema", "id"};
	json_t *v;
	const char *s;
	long long iv = 0;
	bool present = false;
	int r = 0;

	if (!json_is_object(root)) {
		return cdb_fail(c, "the document must be a JSON object");
	}
	for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++) {
		v = cdb_member(c, root, strings[k], true);
		if (!v) {
			return -EINVAL;
		}
		if (!json_is_string(v)) {
			return cdb_fail_at(c, strings[k], "must be a string");
		}
	}
	v = cdb_member(c, root, "version", true);
	if (!v) {
		return -EINVAL;
	}
	s = json_string_value(v);
	if (s && !strcmp(s, "1.0.0")) {
		d->version = 100;
	} else if (s && !strcmp(s, "1.0.1")) {
		d->version = 101;
	} else {
		r = cdb_fail_at(c, "version", "must be \"1.0.0\" or \"1.0.1\"");
		return r;
	}
	r = cdb_get_uuid(c, root, "meshUUID", d->mesh_uuid);
	if (!r) {
		r = cdb_get_name(c, root, "meshName", false, d->mesh_name);
	}
	if (!r && (v = json_object_get(root, "timestamp")) && !json_is_string(v)) {
		r = cdb_fail_at(c, "timestamp", "must be a date-time string");
	}
	if (!r) {
		r = cdb_get_bool(c, root, "partial", false, NULL, &d->partial);
	}
	if (!r) {
		/* Not a profile member: BlueZ's configuration keeps the IV Index here. */
		r = cdb_get_int(c, root, "ivIndex", false, &present, 0, 0xffffffffLL, &iv);
		d->has_iv = present;
		d->iv_index = (uint32_t)iv;
	}
	return r;
}

int cdb_parse(const json_t *root, struct store_cdb **out, char *err, size_t err_cap)
{
	static const struct cdb_walk netkeys = {"netKeys", true, CDB_MAX_KEYS,
						sizeof(struct store_cdb_netkey), true};
	static const struct cdb_walk appkeys = {"appKeys", true, CDB_MAX_KEYS,
						sizeof(struct store_cdb_appkey), true};
	static const struct cdb_walk provs = {"provisioners", true, CDB_MAX_PROVISIONERS,
					      sizeof(struct store_cdb_prov), true};
	static const struct cdb_walk groups = {"groups", false, CDB_MAX_LIST,
					       sizeof(struct store_cdb_group), true};
	static const struct cdb_walk scenes = {"scenes", false, CDB_MAX_LIST,
					       sizeof(struct store_cdb_scene), true};
	char dummy[8];
	struct cx c = {.err = err && err_cap ? err : dummy,
		       .cap = err && err_cap ? err_cap : sizeof(dummy)};
	struct store_cdb *d = calloc(1, sizeof(*d));
	int r;

	c.err[0] = '\0';
	if (!d) {
		return -ENOMEM;
	}
	r = parse_header(&c, root, d);
	if (!r) {
		r = cdb_each(&c, root, &netkeys, (void **)&d->netkeys, &d->n_netkeys, parse_netkey,
			     d);
	}
	if (!r) {
		r = cdb_each(&c, root, &appkeys, (void **)&d->appkeys, &d->n_appkeys, parse_appkey,
			     d);
	}
	if (!r) {
		r = cdb_each(&c, root, &provs, (void **)&d->provs, &d->n_provs, parse_prov, d);
	}
	if (!r) {
		r = cdb_parse_nodes(&c, root, d);
	}
	if (!r) {
		r = cdb_each(&c, root, &groups, (void **)&d->groups, &d->n_groups, parse_group, d);
	}
	if (!r) {
		r = cdb_each(&c, root, &scenes, (void **)&d->scenes, &d->n_scenes, parse_scene, d);
	}
	if (!r) {
		r = parse_exclusions(&c, root, d);
	}
	if (r) {
		if (r == -ENOMEM && !c.failed) {
			snprintf(c.err, c.cap, "out of memory");
		} else if (!c.failed) {
			cdb_fail(&c, "invalid");
		}
		store_cdb_free(d);
		return r;
	}
	*out = d;
	return 0;
}
