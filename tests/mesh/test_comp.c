/*
 * mesh/comp.c against the Composition Data Page 0 sample (§8.10.1) and
 * malformed pages (§4.2.2.1 layout).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/comp.h"
#include "tests/util/tv.h"

static json_t *sample(void)
{
	json_t *v = tv_get("composition_data[id=comp_page0_8_10_1]");

	cr_assert_not_null(v);
	return v;
}

static size_t sample_data(uint8_t *out, size_t cap)
{
	int n = tv_bytes(sample(), "data", out, cap);

	cr_assert_gt(n, 0);
	return (size_t)n;
}

/* §8.10.1: parsing the sample gives every decoded field the spec lists. */
Test(comp, s8_10_1_parse)
{
	json_t *d = json_object_get(sample(), "decoded");
	json_t *e0 = json_object_get(d, "Element0");
	json_t *sig = json_object_get(e0, "SIG_models");
	json_t *vnd = json_object_get(e0, "Vendor_models");
	uint8_t data[64];
	size_t len = sample_data(data, sizeof(data)), i;
	struct mesh_comp c;

	cr_assert_eq(mesh_comp_parse(data, len, &c), 0);
	cr_assert_eq(c.cid, tv_hexnum(d, "CID", 0x10000));
	cr_assert_eq(c.pid, tv_hexnum(d, "PID", 0x10000));
	cr_assert_eq(c.vid, tv_hexnum(d, "VID", 0x10000));
	cr_assert_eq(c.crpl, tv_hexnum(d, "CRPL", 0x10000));
	cr_assert_eq(c.features, tv_hexnum(d, "Features", 0x10000));
	cr_assert_eq(c.features, MESH_FEAT_RELAY | MESH_FEAT_PROXY, "0x0003 = Relay + Proxy");
	cr_assert_eq(c.n_elems, 1);
	cr_assert_eq(c.elems[0].loc, tv_hexnum(e0, "Loc", 0x10000));
	cr_assert_eq(c.elems[0].num_s, json_integer_value(json_object_get(e0, "NumS")));
	cr_assert_eq(c.elems[0].num_v, json_integer_value(json_object_get(e0, "NumV")));
	cr_assert_eq(c.n_sig, json_array_size(sig));
	for (i = 0; i < c.n_sig; i++) {
		cr_assert_eq(c.sig[c.elems[0].sig_off + i],
			     strtoul(json_string_value(json_array_get(sig, i)), NULL, 16));
	}
	cr_assert_eq(c.n_vnd, 1);
	cr_assert_eq(c.vnd[0].cid, tv_hexnum(json_array_get(vnd, 0), "CID", 0x10000));
	cr_assert_eq(c.vnd[0].id, tv_hexnum(json_array_get(vnd, 0), "MID", 0x10000));
}

/* §8.10.1: building the parsed sample gives back its exact octets. */
Test(comp, s8_10_1_build)
{
	uint8_t data[64], out[64];
	size_t len = sample_data(data, sizeof(data)), n = 0;
	struct mesh_comp c;

	cr_assert_eq(mesh_comp_parse(data, len, &c), 0);
	cr_assert_eq(mesh_comp_size(&c), len);
	cr_assert_eq(mesh_comp_build(&c, out, sizeof(out), &n), 0);
	cr_assert_eq(n, len);
	cr_assert_arr_eq(out, data, len);
	cr_assert_eq(mesh_comp_build(&c, out, len - 1, &n), -ENOSPC);
	cr_assert_eq(n, len, "length untouched on failure");
}

/* §8.10.1: the sample built field by field with the append helpers. */
Test(comp, s8_10_1_build_from_fields)
{
	static const uint16_t sig[] = {0x0000, 0x8000, 0x0001, 0x1000, 0x1003};
	uint8_t data[64], out[64];
	size_t len = sample_data(data, sizeof(data)), n = 0, i;
	struct mesh_comp c;

	memset(&c, 0, sizeof(c));
	c.cid = 0x000c;
	c.pid = 0x001a;
	c.vid = 0x0001;
	c.crpl = 0x0008;
	c.features = 0x0003;
	cr_assert_eq(mesh_comp_add_sig(&c, 0x0000), -EINVAL, "no element yet");
	cr_assert_eq(mesh_comp_add_elem(&c, 0x0100), 0);
	for (i = 0; i < 5; i++) {
		cr_assert_eq(mesh_comp_add_sig(&c, sig[i]), 0);
	}
	cr_assert_eq(mesh_comp_add_vnd(&c, 0x003f, 0x002a), 0);
	cr_assert_eq(mesh_comp_build(&c, out, sizeof(out), &n), 0);
	cr_assert_eq(n, len);
	cr_assert_arr_eq(out, data, len);
}

/* Two elements round-trip; the second element's models follow the first's. */
Test(comp, s4_2_2_1_two_elements)
{
	uint8_t out[64];
	size_t n = 0;
	struct mesh_comp c, p;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(mesh_comp_add_elem(&c, 0x0100), 0);
	cr_assert_eq(mesh_comp_add_sig(&c, 0x0000), 0);
	cr_assert_eq(mesh_comp_add_elem(&c, 0x0101), 0);
	cr_assert_eq(mesh_comp_add_vnd(&c, 0x0059, 0x0001), 0);
	cr_assert_eq(mesh_comp_add_sig(&c, 0x1000), 0);
	cr_assert_eq(mesh_comp_build(&c, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 10 + 4 + 2 + 4 + 2 + 4);
	cr_assert_arr_eq(out + 16,
			 ((uint8_t[]){0x01, 0x01, 0x01, 0x01, 0x00, 0x10, 0x59, 0x00, 0x01, 0x00}),
			 10);
	cr_assert_eq(mesh_comp_parse(out, n, &p), 0);
	cr_assert_eq(p.n_elems, 2);
	cr_assert_eq(p.sig[p.elems[1].sig_off], 0x1000);
	cr_assert_eq(p.vnd[p.elems[1].vnd_off].cid, 0x0059);
}

/* Truncated or inconsistent pages are -EBADMSG and leave the output untouched. */
Test(comp, s4_2_2_1_malformed)
{
	uint8_t data[MESH_COMP_DATA_MAX + 2];
	size_t len = sample_data(data, sizeof(data)), cut;
	struct mesh_comp c, ref;

	memset(&c, 0x5a, sizeof(c));
	ref = c;
	/* Every proper prefix is malformed: header, element header or models cut short. */
	for (cut = 0; cut < len; cut++) {
		cr_assert_eq(mesh_comp_parse(data, cut, &c), -EBADMSG, "prefix of %zu", cut);
	}
	/* A stray octet after the last element is a truncated element. */
	data[len] = 0x01;
	cr_assert_eq(mesh_comp_parse(data, len + 1, &c), -EBADMSG);
	/* NumS one too many: the models run past the end. */
	data[12] = 6;
	cr_assert_eq(mesh_comp_parse(data, len, &c), -EBADMSG);
	data[12] = 5;
	/* NumV of 255 overflows what is left. */
	data[13] = 0xff;
	cr_assert_eq(mesh_comp_parse(data, len, &c), -EBADMSG);
	data[13] = 0x01;
	/* Header only: no primary element. */
	cr_assert_eq(mesh_comp_parse(data, MESH_COMP_HDR_LEN, &c), -EBADMSG);
	/* Longer than any Composition Data Status can carry. */
	memset(data + len, 0, sizeof(data) - len);
	cr_assert_eq(mesh_comp_parse(data, MESH_COMP_DATA_MAX + 1, &c), -EBADMSG);
	cr_assert_eq(mesh_comp_parse(NULL, 0, &c), -EINVAL);
	cr_assert_arr_eq(&c, &ref, sizeof(c));
	cr_assert_eq(mesh_comp_parse(data, len, &c), 0, "the repaired sample parses again");
}

/* The largest page (one element, as many SIG models as fit) parses and rebuilds. */
Test(comp, s4_2_2_1_largest_page)
{
	static uint8_t data[MESH_COMP_DATA_MAX], out[MESH_COMP_DATA_MAX];
	struct mesh_comp c;
	size_t n = 0, i;

	memset(data, 0, sizeof(data));
	data[MESH_COMP_HDR_LEN + 2] = (MESH_COMP_DATA_MAX - MESH_COMP_HDR_LEN - 4) / 2;
	for (i = MESH_COMP_HDR_LEN + 4; i < sizeof(data); i++) {
		data[i] = (uint8_t)i;
	}
	cr_assert_eq(mesh_comp_parse(data, sizeof(data), &c), 0);
	cr_assert_eq(c.n_sig, MESH_COMP_SIG_MAX);
	cr_assert_eq(mesh_comp_build(&c, out, sizeof(out), &n), 0);
	cr_assert_arr_eq(out, data, sizeof(data));
	cr_assert_eq(mesh_comp_add_sig(&c, 1), -ENOSPC);
	cr_assert_eq(mesh_comp_add_elem(&c, 1), -ENOSPC);

	/* 92 empty elements also fill a page exactly. */
	memset(data, 0, sizeof(data));
	cr_assert_eq(mesh_comp_parse(data, sizeof(data), &c), 0);
	cr_assert_eq(c.n_elems, MESH_COMP_ELEM_MAX);
}

/* Inconsistent structs are refused by the builder. */
Test(comp, build_inconsistent)
{
	struct mesh_comp c;
	uint8_t out[64];
	size_t n = 0;

	memset(&c, 0, sizeof(c));
	cr_assert_eq(mesh_comp_build(&c, out, sizeof(out), &n), -EINVAL, "no element");
	cr_assert_eq(mesh_comp_add_elem(&c, 0), 0);
	c.elems[0].num_s = 1; /* claims a model the array does not hold */
	cr_assert_eq(mesh_comp_build(&c, out, sizeof(out), &n), -EINVAL);
	c.n_sig = 1;
	cr_assert_eq(mesh_comp_build(&c, out, sizeof(out), &n), 0);
	cr_assert_eq(n, 16);
}
