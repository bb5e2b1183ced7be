#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mesh/prov_pdu.h"
#include "tests/util/tv.h"

/* Parse expecting failure with `code`, and check *out was not touched. */
static void assert_rejected(const uint8_t *pdu, size_t len, size_t vlen, enum prov_err code)
{
	struct prov_pdu out, before;
	enum prov_err err = PROV_ERR_NONE;

	memset(&out, 0xaa, sizeof(out));
	before = out;
	cr_assert_eq(prov_pdu_parse(pdu, len, vlen, &out, &err), -EBADMSG, "accepted %s",
		     tv_tohex(pdu, len));
	cr_assert_eq(err, code, "%s: code 0x%02x, want 0x%02x", tv_tohex(pdu, len), err, code);
	cr_assert(memcmp(&out, &before, sizeof(out)) == 0, "output written on failure");
}

static void parse_ok(const uint8_t *pdu, size_t len, size_t vlen, struct prov_pdu *out)
{
	enum prov_err err = PROV_ERR_NONE;

	cr_assert_eq(prov_pdu_parse(pdu, len, vlen, out, &err), 0, "rejected %s (0x%02x)",
		     tv_tohex(pdu, len), err);
}

/* Build p, parse it back and require the same octets again. */
static void round_trip(const struct prov_pdu *p, size_t vlen, const uint8_t *want, size_t want_len)
{
	uint8_t buf[128], again[128];
	size_t len, len2;
	struct prov_pdu q;

	cr_assert_eq(prov_pdu_build(p, buf, sizeof(buf), &len), 0);
	if (want) {
		cr_assert_eq(len, want_len);
		cr_assert(memcmp(buf, want, len) == 0, "built %s", tv_tohex(buf, len));
	}
	parse_ok(buf, len, vlen, &q);
	cr_assert_eq(q.type, p->type);
	cr_assert_eq(prov_pdu_build(&q, again, sizeof(again), &len2), 0);
	cr_assert_eq(len2, len);
	cr_assert(memcmp(buf, again, len) == 0);
}

static size_t sample_pdu(const char *sample, const char *key, uint8_t type, uint8_t *out,
			 size_t cap)
{
	json_t *j = json_object_get(tv_get("provisioning"), sample);
	int n;

	cr_assert_not_null(j);
	n = tv_bytes(j, key, out + 1, cap - 1);
	cr_assert_gt(n, 0);
	out[0] = type;
	return (size_t)n + 1;
}

/* §8.7: the sample Capabilities and Start PDUs decode to the documented fields and re-encode. */
Test(prov_pdu, s8_7_sample_caps_and_start)
{
	uint8_t pdu[16];
	struct prov_pdu p;
	size_t len;

	len =
	    sample_pdu("hmac_sample", "CapabilitiesPDUValue", PROV_CAPABILITIES, pdu, sizeof(pdu));
	parse_ok(pdu, len, 0, &p);
	cr_assert_eq(p.type, PROV_CAPABILITIES);
	cr_assert_eq(p.u.caps.elements, 1);
	cr_assert_eq(p.u.caps.algorithms, PROV_ALGS_CMAC | PROV_ALGS_HMAC);
	cr_assert_eq(p.u.caps.pub_key_type, 0);
	cr_assert_eq(p.u.caps.oob_type, PROV_OOB_TYPE_STATIC);
	cr_assert_eq(p.u.caps.output_size, 0);
	cr_assert_eq(p.u.caps.input_actions, 0);
	round_trip(&p, 0, pdu, len);

	len = sample_pdu("hmac_sample", "StartPDUValue", PROV_START, pdu, sizeof(pdu));
	parse_ok(pdu, len, 0, &p);
	cr_assert_eq(p.u.start.alg, PROV_ALG_HMAC);
	cr_assert_eq(p.u.start.pub_key, PROV_START_PUB_KEY_NO_OOB);
	cr_assert_eq(p.u.start.auth_method, PROV_AUTH_STATIC);
	round_trip(&p, 0, pdu, len);
}

/* §8.7: the sample Public Key, Confirmation, Random and Data PDUs parse and re-encode exactly. */
Test(prov_pdu, s8_7_sample_pdus_round_trip)
{
	static const struct {
		const char *sample, *key;
		uint8_t type;
		size_t vlen;
	} cases[] = {
	    {"cmac_sample", "ProvisionerPublicKey_XY", PROV_PUB_KEY, 0},
	    {"cmac_sample", "DevicePublicKey_XY", PROV_PUB_KEY, 0},
	    {"cmac_sample", "ConfirmationProvisioner", PROV_CONFIRMATION, 16},
	    {"cmac_sample", "RandomDevice", PROV_RANDOM, 16},
	    {"hmac_sample", "ConfirmationDevice", PROV_CONFIRMATION, 32},
	    {"hmac_sample", "RandomProvisioner", PROV_RANDOM, 32},
	    {"hmac_sample", "InvitePDUValue", PROV_INVITE, 0},
	};
	uint8_t pdu[80];
	struct prov_pdu p;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len =
		    sample_pdu(cases[i].sample, cases[i].key, cases[i].type, pdu, sizeof(pdu));

		parse_ok(pdu, len, cases[i].vlen, &p);
		if (cases[i].vlen) {
			cr_assert_eq(p.u.value.len, cases[i].vlen);
		}
		round_trip(&p, cases[i].vlen, pdu, len);
	}
	cr_assert_eq(tv_bytes(json_object_get(tv_get("provisioning"), "cmac_sample"),
			      "ProvisioningDataPDU", pdu, sizeof(pdu)),
		     34);
	parse_ok(pdu, 34, 16, &p);
	cr_assert_eq(p.type, PROV_DATA);
	cr_assert_eq(p.u.data.mic[7], pdu[33]);
	round_trip(&p, 16, pdu, 34);
}

/* Every type with a fixed length rejects one octet less and one octet more (Invalid Format). */
Test(prov_pdu, fixed_lengths_exact)
{
	static const struct {
		uint8_t type;
		size_t params;
	} fixed[] = {
	    {PROV_INVITE, 1},      {PROV_CAPABILITIES, 11},  {PROV_START, 5},
	    {PROV_PUB_KEY, 64},    {PROV_INPUT_COMPLETE, 0}, {PROV_DATA, 33},
	    {PROV_COMPLETE, 0},    {PROV_FAILED, 1},         {PROV_RECORD_REQUEST, 6},
	    {PROV_RECORDS_GET, 0},
	};
	uint8_t pdu[80];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		struct prov_pdu p;

		memset(pdu, 0, sizeof(pdu));
		pdu[0] = fixed[i].type;
		/* Make the well-sized PDU valid where zeros would be prohibited. */
		if (fixed[i].type == PROV_CAPABILITIES) {
			pdu[1] = 1;
			pdu[3] = 1;
		}
		if (fixed[i].type == PROV_RECORD_REQUEST) {
			pdu[6] = 0x10;
		}
		parse_ok(pdu, 1 + fixed[i].params, 16, &p);
		cr_assert_eq(p.type, fixed[i].type);
		if (fixed[i].params) {
			assert_rejected(pdu, fixed[i].params, 16, PROV_ERR_INVALID_FORMAT);
		}
		assert_rejected(pdu, 2 + fixed[i].params, 16, PROV_ERR_INVALID_FORMAT);
	}
}

/* Confirmation and Random are 16 or 32 octets, exactly the negotiated one once known. */
Test(prov_pdu, value_lengths_follow_algorithm)
{
	uint8_t pdu[40] = {0};
	struct prov_pdu p;

	for (int t = PROV_CONFIRMATION; t <= PROV_RANDOM; t++) {
		pdu[0] = (uint8_t)t;
		parse_ok(pdu, 17, 16, &p);
		parse_ok(pdu, 33, 32, &p);
		parse_ok(pdu, 17, 0, &p);
		parse_ok(pdu, 33, 0, &p);
		assert_rejected(pdu, 17, 32, PROV_ERR_INVALID_FORMAT);
		assert_rejected(pdu, 33, 16, PROV_ERR_INVALID_FORMAT);
		assert_rejected(pdu, 1, 0, PROV_ERR_INVALID_FORMAT);
		assert_rejected(pdu, 16, 16, PROV_ERR_INVALID_FORMAT);
		assert_rejected(pdu, 18, 0, PROV_ERR_INVALID_FORMAT);
		assert_rejected(pdu, 32, 0, PROV_ERR_INVALID_FORMAT);
		assert_rejected(pdu, 34, 32, PROV_ERR_INVALID_FORMAT);
	}
}

/* Padding bits in the type octet and RFU types are Invalid PDU (0x01); so is nothing at all. */
Test(prov_pdu, padding_and_rfu_types)
{
	uint8_t pdu[80] = {0};

	for (unsigned t = 0; t < PROV_PDU_TYPES; t++) {
		pdu[0] = (uint8_t)(0x40 | t);
		assert_rejected(pdu, 2, 0, PROV_ERR_INVALID_PDU);
		pdu[0] = (uint8_t)(0x80 | t);
		assert_rejected(pdu, 2, 0, PROV_ERR_INVALID_PDU);
	}
	for (unsigned t = PROV_PDU_TYPES; t <= 0x3f; t++) {
		pdu[0] = (uint8_t)t;
		assert_rejected(pdu, 1, 0, PROV_ERR_INVALID_PDU);
		assert_rejected(pdu, 12, 0, PROV_ERR_INVALID_PDU);
	}
	assert_rejected(pdu, 0, 0, PROV_ERR_INVALID_PDU);
	assert_rejected(NULL, 0, 0, PROV_ERR_INVALID_PDU);
}

/* Capabilities with prohibited or RFU values are Invalid Format; RFU bits are ignored. */
Test(prov_pdu, capabilities_field_values)
{
	/*                        type  elem  algorithms  pkt   oob   osz   oact        isz   iact
	 */
	const uint8_t good[12] = {0x01, 0x02, 0x00, 0x03, 0x01, 0x01,
				  0x08, 0x00, 0x1f, 0x08, 0x00, 0x0f};
	uint8_t pdu[12];
	struct prov_pdu p;

	parse_ok(good, 12, 0, &p);
	cr_assert_eq(p.u.caps.output_actions, 0x1f);
	cr_assert_eq(p.u.caps.input_size, 8);

	memcpy(pdu, good, 12);
	pdu[1] = 0; /* zero elements: prohibited */
	assert_rejected(pdu, 12, 0, PROV_ERR_INVALID_FORMAT);
	memcpy(pdu, good, 12);
	pdu[2] = 0;
	pdu[3] = 0; /* no algorithm */
	assert_rejected(pdu, 12, 0, PROV_ERR_INVALID_FORMAT);
	pdu[3] = 0x04; /* only an RFU algorithm */
	assert_rejected(pdu, 12, 0, PROV_ERR_INVALID_FORMAT);
	memcpy(pdu, good, 12);
	pdu[6] = 9; /* Output OOB Size 0x09: RFU */
	assert_rejected(pdu, 12, 0, PROV_ERR_INVALID_FORMAT);
	memcpy(pdu, good, 12);
	pdu[9] = 0xff; /* Input OOB Size 0xff: RFU */
	assert_rejected(pdu, 12, 0, PROV_ERR_INVALID_FORMAT);
	memcpy(pdu, good, 12);
	pdu[4] = 0xfe; /* RFU bits in Public Key Type */
	pdu[7] = 0xff; /* RFU action bits */
	parse_ok(pdu, 12, 0, &p);
}

/* Start with RFU or prohibited values is Invalid Format. */
Test(prov_pdu, start_field_values)
{
	static const uint8_t bad[][5] = {
	    {0x02, 0x00, 0x00, 0x00, 0x00}, /* algorithm RFU */
	    {0x00, 0x02, 0x00, 0x00, 0x00}, /* public key RFU */
	    {0x00, 0x00, 0x04, 0x00, 0x00}, /* method RFU */
	    {0x00, 0x00, 0x00, 0x01, 0x00}, /* No OOB with an action */
	    {0x00, 0x00, 0x00, 0x00, 0x01}, /* No OOB with a size */
	    {0x00, 0x00, 0x01, 0x00, 0x01}, /* Static with a size */
	    {0x00, 0x00, 0x02, 0x05, 0x04}, /* Output action RFU */
	    {0x00, 0x00, 0x02, 0x03, 0x00}, /* Output size 0 */
	    {0x00, 0x00, 0x02, 0x03, 0x09}, /* Output size 9 */
	    {0x00, 0x00, 0x03, 0x04, 0x04}, /* Input action RFU */
	    {0x00, 0x00, 0x03, 0x00, 0x00}, /* Input size 0 */
	};
	static const uint8_t good[][5] = {
	    {0x00, 0x00, 0x00, 0x00, 0x00},
	    {0x01, 0x01, 0x01, 0x00, 0x00},
	    {0x00, 0x00, 0x02, 0x04, 0x08},
	    {0x01, 0x00, 0x03, 0x03, 0x01},
	};
	uint8_t pdu[6] = {PROV_START};
	struct prov_pdu p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(pdu + 1, bad[i], 5);
		assert_rejected(pdu, 6, 0, PROV_ERR_INVALID_FORMAT);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memcpy(pdu + 1, good[i], 5);
		parse_ok(pdu, 6, 0, &p);
		round_trip(&p, 0, pdu, 6);
	}
}

/* Mesh 1.1 record PDUs: layouts decode; zero fragment size, RFU status, odd lists are refused. */
Test(prov_pdu, record_pdus)
{
	const uint8_t req[] = {PROV_RECORD_REQUEST, 0x00, 0x02, 0x00, 0x10, 0x00, 0x14};
	const uint8_t rsp[] = {
	    PROV_RECORD_RESPONSE, 0x00, 0x00, 0x02, 0x00, 0x10, 0x01, 0x00, 0xde, 0xad, 0xbe};
	const uint8_t list[] = {PROV_RECORDS_LIST, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02};
	uint8_t pdu[16];
	struct prov_pdu p;

	parse_ok(req, sizeof(req), 0, &p);
	cr_assert_eq(p.u.record_req.record_id, 0x0002);
	cr_assert_eq(p.u.record_req.offset, 0x0010);
	cr_assert_eq(p.u.record_req.max_size, 0x0014);
	round_trip(&p, 0, req, sizeof(req));
	memcpy(pdu, req, sizeof(req));
	pdu[5] = pdu[6] = 0;
	assert_rejected(pdu, sizeof(req), 0, PROV_ERR_INVALID_FORMAT);

	parse_ok(rsp, sizeof(rsp), 0, &p);
	cr_assert_eq(p.u.record_rsp.status, PROV_RECORD_SUCCESS);
	cr_assert_eq(p.u.record_rsp.record_id, 0x0002);
	cr_assert_eq(p.u.record_rsp.total_len, 0x0100);
	cr_assert_eq(p.u.record_rsp.data_len, 3);
	cr_assert_eq(p.u.record_rsp.data, rsp + 8);
	round_trip(&p, 0, rsp, sizeof(rsp));
	parse_ok(rsp, 8, 0, &p);
	cr_assert_eq(p.u.record_rsp.data_len, 0);
	assert_rejected(rsp, 7, 0, PROV_ERR_INVALID_FORMAT);
	memcpy(pdu, rsp, sizeof(rsp));
	pdu[1] = 0x03;
	assert_rejected(pdu, sizeof(rsp), 0, PROV_ERR_INVALID_FORMAT);

	parse_ok(list, sizeof(list), 0, &p);
	cr_assert_eq(p.u.records_list.n_ids, 2);
	round_trip(&p, 0, list, sizeof(list));
	parse_ok(list, 3, 0, &p);
	cr_assert_eq(p.u.records_list.n_ids, 0);
	assert_rejected(list, 2, 0, PROV_ERR_INVALID_FORMAT);
	assert_rejected(list, 6, 0, PROV_ERR_INVALID_FORMAT);
}

/* A Start is checked against what the Capabilities offered (§5.4.1.3). */
Test(prov_pdu, start_check_against_capabilities)
{
	struct prov_caps c = {.elements = 1,
			      .algorithms = PROV_ALGS_CMAC,
			      .output_size = 4,
			      .output_actions = 1u << PROV_OUT_NUMERIC,
			      .input_size = 2,
			      .input_actions = 1u << PROV_IN_PUSH};
	struct prov_start s = {0};

	cr_assert_eq(prov_start_check(&s, &c), 0);
	s.alg = PROV_ALG_HMAC;
	cr_assert_eq(prov_start_check(&s, &c), -EBADMSG, "algorithm not offered");
	s.alg = PROV_ALG_CMAC;
	s.pub_key = PROV_START_PUB_KEY_OOB;
	cr_assert_eq(prov_start_check(&s, &c), -EBADMSG, "OOB public key not offered");
	s.pub_key = 0;
	s.auth_method = PROV_AUTH_STATIC;
	cr_assert_eq(prov_start_check(&s, &c), -EBADMSG, "static OOB not offered");
	s = (struct prov_start){
	    .auth_method = PROV_AUTH_OUTPUT, .auth_action = PROV_OUT_NUMERIC, .auth_size = 4};
	cr_assert_eq(prov_start_check(&s, &c), 0);
	s.auth_size = 5;
	cr_assert_eq(prov_start_check(&s, &c), -EBADMSG, "size above the offered maximum");
	s.auth_size = 4;
	s.auth_action = PROV_OUT_BLINK;
	cr_assert_eq(prov_start_check(&s, &c), -EBADMSG, "action not offered");
	s = (struct prov_start){
	    .auth_method = PROV_AUTH_INPUT, .auth_action = PROV_IN_PUSH, .auth_size = 2};
	cr_assert_eq(prov_start_check(&s, &c), 0);
	s.auth_action = PROV_IN_ALPHA;
	cr_assert_eq(prov_start_check(&s, &c), -EBADMSG);
	s = (struct prov_start){0};
	c.oob_type = PROV_OOB_TYPE_ONLY_OOB;
	cr_assert_eq(prov_start_check(&s, &c), -EBADMSG, "device accepts only OOB authentication");
}

/* Building into a short buffer fails with -ENOSPC; a bad value length with -EINVAL. */
Test(prov_pdu, build_errors)
{
	struct prov_pdu p = {.type = PROV_PUB_KEY};
	uint8_t buf[65];
	size_t len = 1234;

	cr_assert_eq(prov_pdu_build(&p, buf, 64, &len), -ENOSPC);
	cr_assert_eq(len, 1234);
	cr_assert_eq(prov_pdu_build(&p, buf, 65, &len), 0);
	cr_assert_eq(len, 65);
	p.type = PROV_CONFIRMATION;
	p.u.value.len = 20;
	cr_assert_eq(prov_pdu_build(&p, buf, sizeof(buf), &len), -EINVAL);
	p.type = (enum prov_pdu_type)0x0e;
	cr_assert_eq(prov_pdu_build(&p, buf, sizeof(buf), &len), -EINVAL);
	cr_assert_eq(prov_pdu_parse(buf, 1, 20, &p, NULL), -EINVAL);
}

/* §5.4.2.5: Provisioning Data fields in the sample plaintext, both ways. */
Test(prov_pdu, s8_7_provisioning_data_layout)
{
	json_t *j = json_object_get(tv_get("provisioning"), "cmac_sample");
	uint8_t plain[25], again[25];
	struct prov_data d;

	cr_assert_eq(tv_bytes(j, "ProvisioningData_plaintext", plain, 25), 25);
	prov_data_decode(plain, &d);
	cr_assert_eq(d.net_key[0], 0xef);
	cr_assert_eq(d.net_idx, 0x0567);
	cr_assert_eq(d.flags, 0);
	cr_assert_eq(d.iv_index, 0x01020304);
	cr_assert_eq(d.unicast, 0x0b0c);
	prov_data_encode(&d, again);
	cr_assert(memcmp(plain, again, 25) == 0);
}

/* Failed codes have names; RFU codes are "Unknown". */
Test(prov_pdu, error_names)
{
	cr_assert_str_eq(prov_err_str(PROV_ERR_CONFIRMATION_FAILED), "Confirmation Failed");
	cr_assert_str_eq(prov_err_str(PROV_ERR_INVALID_DATA), "Invalid Data");
	cr_assert_str_eq(prov_err_str(0x0a), "Unknown");
	cr_assert_eq(prov_alg_value_len(PROV_ALG_CMAC), 16);
	cr_assert_eq(prov_alg_value_len(PROV_ALG_HMAC), 32);
	cr_assert_eq(prov_alg_value_len(2), 0);
}
