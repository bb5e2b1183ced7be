/*
 * Mesh CDB import side (cdb.h): the consistency of a parsed document on its
 * own, before anything is compared with the inventory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/cdb.h"

/* --- Consistency ------------------------------------------------------------------ */

static int incons(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int incons(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err && cap) {
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return -EDOM;
}

static const struct store_cdb_netkey *find_netkey(const struct store_cdb *d, uint16_t idx)
{
	for (size_t i = 0; i < d->n_netkeys; i++) {
		if (d->netkeys[i].idx == idx) {
			return &d->netkeys[i];
		}
	}
	return NULL;
}

static const struct store_cdb_appkey *find_appkey(const struct store_cdb *d, uint16_t idx)
{
	for (size_t i = 0; i < d->n_appkeys; i++) {
		if (d->appkeys[i].idx == idx) {
			return &d->appkeys[i];
		}
	}
	return NULL;
}

struct span {
	uint32_t lo, hi;
	size_t who;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool has16(const uint16_t *a, size_t n, uint16_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] == v) {
			return true;
		}
	}
	return false;
}

static int check_keys(const struct store_cdb *d, char *err, size_t cap)
{
	for (size_t i = 0; i < d->n_netkeys; i++) {
		for (size_t k = 0; k < i; k++) {
			if (d->netkeys[k].idx == d->netkeys[i].idx) {
				return incons(err, cap,
					      "/netKeys/%zu/index: NetKey %u is also /netKeys/%zu",
					      i, d->netkeys[i].idx, k);
			}
		}
	}
	if (!d->n_netkeys) {
		return incons(err, cap, "/netKeys: a network has at least one NetKey");
	}
	for (size_t i = 0; i < d->n_appkeys; i++) {
		for (size_t k = 0; k < i; k++) {
			if (d->appkeys[k].idx == d->appkeys[i].idx) {
				return incons(err, cap,
					      "/appKeys/%zu/index: AppKey %u is also /appKeys/%zu",
					      i, d->appkeys[i].idx, k);
			}
		}
		if (!find_netkey(d, d->appkeys[i].net_idx)) {
			return incons(err, cap,
				      "/appKeys/%zu/boundNetKey: no NetKey %u in /netKeys", i,
				      d->appkeys[i].net_idx);
		}
	}
	return 0;
}

/* The first of p[0..np) that overlaps one of q[0..nq); np when none does. */
static size_t overlap(const struct store_cdb_range *p, size_t np, const struct store_cdb_range *q,
		      size_t nq)
{
	for (size_t a = 0; a < np; a++) {
		for (size_t b = 0; b < nq; b++) {
			if (p[a].lo <= q[b].hi && q[b].lo <= p[a].hi) {
				return a;
			}
		}
	}
	return np;
}

static int check_provs(const struct store_cdb *d, char *err, size_t cap)
{
	for (size_t i = 0; i < d->n_provs; i++) {
		const struct store_cdb_prov *p = &d->provs[i];
		size_t a;

		for (size_t k = 0; k < i; k++) {
			const struct store_cdb_prov *q = &d->provs[k];

			if (!memcmp(p->uuid, q->uuid, 16)) {
				return incons(err, cap,
					      "/provisioners/%zu/UUID: also /provisioners/%zu", i,
					      k);
			}
			a = overlap(p->uni, p->n_uni, q->uni, q->n_uni);
			if (a < p->n_uni) {
				return incons(err, cap,
					      "/provisioners/%zu/allocatedUnicastRange/%zu: "
					      "0x%04x-0x%04x overlaps /provisioners/%zu",
					      i, a, p->uni[a].lo, p->uni[a].hi, k);
			}
			a = overlap(p->grp, p->n_grp, q->grp, q->n_grp);
			if (a < p->n_grp) {
				return incons(err, cap,
					      "/provisioners/%zu/allocatedGroupRange/%zu: "
					      "0x%04x-0x%04x overlaps /provisioners/%zu",
					      i, a, p->grp[a].lo, p->grp[a].hi, k);
			}
			a = overlap(p->scene, p->n_scene, q->scene, q->n_scene);
			if (a < p->n_scene) {
				return incons(err, cap,
					      "/provisioners/%zu/allocatedSceneRange/%zu: "
					      "overlaps /provisioners/%zu",
					      i, a, k);
			}
		}
	}
	return 0;
}

static int check_node_refs(const struct store_cdb *d, size_t i, char *err, size_t cap)
{
	const struct store_cdb_node *n = &d->nodes[i];

	for (size_t k = 0; k < n->n_netkeys; k++) {
		if (!find_netkey(d, n->netkeys[k])) {
			return incons(err, cap, "/nodes/%zu/netKeys/%zu: no NetKey %u in /netKeys",
				      i, k, n->netkeys[k]);
		}
		if (has16(n->netkeys, k, n->netkeys[k])) {
			return incons(err, cap, "/nodes/%zu/netKeys/%zu: NetKey %u listed twice", i,
				      k, n->netkeys[k]);
		}
	}
	for (size_t k = 0; k < n->n_appkeys; k++) {
		const struct store_cdb_appkey *a = find_appkey(d, n->appkeys[k]);

		if (!a) {
			return incons(err, cap, "/nodes/%zu/appKeys/%zu: no AppKey %u in /appKeys",
				      i, k, n->appkeys[k]);
		}
		if (has16(n->appkeys, k, n->appkeys[k])) {
			return incons(err, cap, "/nodes/%zu/appKeys/%zu: AppKey %u listed twice", i,
				      k, n->appkeys[k]);
		}
		if (!has16(n->netkeys, n->n_netkeys, a->net_idx)) {
			return incons(
			    err, cap,
			    "/nodes/%zu/appKeys/%zu: AppKey %u is bound to NetKey %u, which "
			    "the node does not hold",
			    i, k, a->idx, a->net_idx);
		}
	}
	if (!n->excluded && !n->n_el) {
		return incons(err, cap, "/nodes/%zu/elements: a node has at least one element", i);
	}
	if ((uint32_t)n->unicast + (n->n_el ? n->n_el : 1) - 1 > 0x7fff) {
		return incons(err, cap,
			      "/nodes/%zu/unicastAddress: its %zu elements run past 0x7fff", i,
			      n->n_el);
	}
	for (size_t e = 0; e < n->n_el; e++) {
		const struct store_cdb_element *el = &n->el[e];

		if (el->idx != e) {
			return incons(err, cap,
				      "/nodes/%zu/elements/%zu/index: must be %zu (elements "
				      "are numbered from 0 in order)",
				      i, e, e);
		}
		for (size_t m = 0; m < el->n_models; m++) {
			const struct store_cdb_model *md = &el->models[m];

			for (size_t o = 0; o < m; o++) {
				if (el->models[o].vendor == md->vendor &&
				    el->models[o].id == md->id) {
					return incons(
					    err, cap,
					    "/nodes/%zu/elements/%zu/models/%zu/modelId: the "
					    "model is also /models/%zu",
					    i, e, m, o);
				}
			}
			for (size_t b = 0; b < md->n_bind; b++) {
				if (!has16(n->appkeys, n->n_appkeys, md->bind[b])) {
					return incons(
					    err, cap,
					    "/nodes/%zu/elements/%zu/models/%zu/bind/%zu: "
					    "AppKey %u is not in the node's appKeys",
					    i, e, m, b, md->bind[b]);
				}
			}
			if (md->has_pub && md->pub.addr != 0 && !find_appkey(d, md->pub.app_idx)) {
				return incons(
				    err, cap,
				    "/nodes/%zu/elements/%zu/models/%zu/publish/index: no "
				    "AppKey %u in /appKeys",
				    i, e, m, md->pub.app_idx);
			}
		}
	}
	return 0;
}

static int check_nodes(const struct store_cdb *d, char *err, size_t cap)
{
	struct span *sp = d->n_nodes ? calloc(d->n_nodes, sizeof(*sp)) : NULL;
	size_t n = 0;
	int r = 0;

	if (d->n_nodes && !sp) {
		return -ENOMEM;
	}
	for (size_t i = 0; !r && i < d->n_nodes; i++) {
		const struct store_cdb_node *nd = &d->nodes[i];

		r = check_node_refs(d, i, err, cap);
		for (size_t k = 0; !r && k < i; k++) {
			if (!memcmp(d->nodes[k].uuid, nd->uuid, 16) && !nd->excluded &&
			    !d->nodes[k].excluded) {
				r = incons(err, cap,
					   "/nodes/%zu/UUID: the same device is /nodes/%zu", i, k);
			}
		}
		for (size_t k = 0; !r && !nd->excluded && k < d->n_excl; k++) {
			if (d->excl[k].addr >= nd->unicast &&
			    d->excl[k].addr < nd->unicast + (nd->n_el ? nd->n_el : 1)) {
				r = incons(
				    err, cap,
				    "/nodes/%zu/unicastAddress: 0x%04x is on /networkExclusions", i,
				    d->excl[k].addr);
			}
		}
		if (!nd->excluded) {
			sp[n++] = (struct span){nd->unicast,
						nd->unicast + (nd->n_el ? nd->n_el : 1) - 1u, i};
		}
	}
	if (!r && n) {
		qsort(sp, n, sizeof(*sp), cmp_span);
		for (size_t i = 1; !r && i < n; i++) {
			if (sp[i].lo <= sp[i - 1].hi) {
				r = incons(
				    err, cap,
				    "/nodes/%zu/unicastAddress: elements 0x%04x-0x%04x overlap "
				    "/nodes/%zu (0x%04x-0x%04x)",
				    sp[i].who, sp[i].lo, sp[i].hi, sp[i - 1].who, sp[i - 1].lo,
				    sp[i - 1].hi);
			}
		}
	}
	free(sp);
	return r;
}

int cdb_check(const struct store_cdb *doc, char *err, size_t err_cap)
{
	int r;

	if (!doc) {
		return -EINVAL;
	}
	r = check_keys(doc, err, err_cap);
	if (!r) {
		r = check_provs(doc, err, err_cap);
	}
	if (!r) {
		r = check_nodes(doc, err, err_cap);
	}
	for (size_t i = 0; !r && i < doc->n_scenes; i++) {
		for (size_t k = 0; k < i; k++) {
			if (doc->scenes[k].number == doc->scenes[i].number) {
				r = incons(err, err_cap, "/scenes/%zu/number: also /scenes/%zu", i,
					   k);
				break;
			}
		}
	}
	return r;
}
