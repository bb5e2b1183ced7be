/*
 * libFuzzer target: Provisioning PDUs into a provisioner or device session
 * that an honest peer has already taken some steps into the protocol.
 *
 * Input: mode(1) ‖ commands.  mode bit0: 0 = the device is under test, 1 =
 * the provisioner; bits 1-3: how many PDUs the honest peer delivers first
 * (0-7); bits 4-6: authentication (0 No OOB CMAC sample keys, 1 static OOB
 * HMAC, 2 Output numeric, 3 Output alphanumeric, 4 Input push, 5 Input
 * alphanumeric, 6 OOB public key, 7 static 16-octet with HMAC).  Commands:
 * len(1) ‖ PDU(len) is fed to prov_rx; len 0xff ‖ n(1) ‖ text(n) is typed
 * with prov_input_oob; len 0xfe advances the clock by 60 s and ticks.
 * Seeds in corpus/prov_pdu are the §8.7 sample PDUs at each step.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/crypto.h"
#include "mesh/prov.h"

/* §8.7 sample private keys: fixed keys keep each run cheap and reproducible. */
static const uint8_t prov_priv[32] = {
    0x06, 0xa5, 0x16, 0x69, 0x3c, 0x9a, 0xa3, 0x1a, 0x60, 0x84, 0x54, 0x5d, 0x0c, 0x5d, 0xb6, 0x41,
    0xb4, 0x85, 0x72, 0xb9, 0x72, 0x03, 0xdd, 0xff, 0xb7, 0xac, 0x73, 0xf7, 0xd0, 0x45, 0x76, 0x63};
static const uint8_t dev_priv[32] = {
    0x52, 0x9a, 0xa0, 0x67, 0x0d, 0x72, 0xcd, 0x64, 0x97, 0x50, 0x2e, 0xd4, 0x73, 0x50, 0x2b, 0x03,
    0x7e, 0x88, 0x03, 0xb5, 0xc6, 0x08, 0x29, 0xa5, 0xa3, 0xca, 0xa2, 0x19, 0x50, 0x55, 0x30, 0xba};

#define MAXQ 32

struct fz {
	struct prov_sess *s[2]; /* 0 provisioner, 1 device */
	uint8_t q[MAXQ][PROV_PDU_MAX];
	size_t qlen[MAXQ];
	int qto[MAXQ];
	int qh, qt;
	int target; /* the side under test */
	bool cut;   /* the honest peer no longer reaches the target */
	char shown[2][PROV_OOB_SIZE_MAX + 1];
	bool requested[2];
	uint64_t rng_state;
};

struct side_ctx {
	struct fz *fz;
	int idx;
};

static int fz_rng(void *ctx, uint8_t *buf, size_t len)
{
	struct fz *f = ctx;

	for (size_t i = 0; i < len; i++) {
		f->rng_state ^= f->rng_state << 13;
		f->rng_state ^= f->rng_state >> 7;
		f->rng_state ^= f->rng_state << 17;
		buf[i] = (uint8_t)f->rng_state;
	}
	return 0;
}

static int fz_send(void *ctx, const uint8_t *pdu, size_t len)
{
	struct side_ctx *sc = ctx;
	struct fz *f = sc->fz;
	int slot;

	if (len > PROV_PDU_MAX) {
		abort(); /* a session never builds a PDU longer than this */
	}
	if (f->cut || f->qt - f->qh >= MAXQ) {
		return 0;
	}
	slot = f->qt++ % MAXQ;
	memcpy(f->q[slot], pdu, len);
	f->qlen[slot] = len;
	f->qto[slot] = 1 - sc->idx;
	return 0;
}

static void fz_output(void *ctx, uint8_t action, const char *value)
{
	struct side_ctx *sc = ctx;

	(void)action;
	if (strlen(value) > PROV_OOB_SIZE_MAX) {
		abort();
	}
	strcpy(sc->fz->shown[sc->idx], value);
}

static void fz_request(void *ctx, uint8_t action, uint8_t size)
{
	struct side_ctx *sc = ctx;

	(void)action;
	(void)size;
	sc->fz->requested[sc->idx] = true;
}

static void fz_done(void *ctx, const struct prov_result *res)
{
	(void)ctx;
	(void)res;
}

static void fz_failed(void *ctx, int err, uint8_t code)
{
	(void)ctx;
	(void)code;
	if (err >= 0) {
		abort(); /* failures always carry a negative errno */
	}
}

static void configure(uint8_t auth, struct prov_cfg *pc, struct prov_cfg *dc)
{
	memset(pc, 0, sizeof(*pc));
	memset(dc, 0, sizeof(*dc));
	pc->role = PROV_ROLE_PROVISIONER;
	pc->auth_method = PROV_AUTH_AUTO;
	pc->has_priv_key = true;
	memcpy(pc->priv_key, prov_priv, 32);
	memset(pc->data.net_key, 0x5a, 16);
	pc->data.unicast = 0x0b0c;
	dc->role = PROV_ROLE_DEVICE;
	dc->has_priv_key = true;
	memcpy(dc->priv_key, dev_priv, 32);
	dc->caps.elements = 1;
	dc->caps.algorithms = auth == 0 ? PROV_ALGS_CMAC : PROV_ALGS_CMAC | PROV_ALGS_HMAC;
	switch (auth) {
	case 1:
	case 7:
		dc->caps.oob_type = PROV_OOB_TYPE_STATIC;
		pc->static_oob_len = dc->static_oob_len = auth == 1 ? 32 : 16;
		memset(pc->static_oob, 0x33, 32);
		memset(dc->static_oob, 0x33, 32);
		break;
	case 2:
	case 3:
		dc->caps.output_size = 4;
		dc->caps.output_actions = auth == 2 ? 1u << PROV_OUT_NUMERIC : 1u << PROV_OUT_ALPHA;
		break;
	case 4:
	case 5:
		dc->caps.input_size = 3;
		dc->caps.input_actions = auth == 4 ? 1u << PROV_IN_PUSH : 1u << PROV_IN_ALPHA;
		break;
	case 6:
		dc->caps.pub_key_type = PROV_PUB_KEY_TYPE_OOB;
		pc->has_dev_pub_key = true;
		(void)mesh_crypto_p256_pub_from_priv(dev_priv, pc->dev_pub_key);
		break;
	default:
		break;
	}
}

/* Let the honest peer deliver `steps` PDUs to the target, answering OOB prompts. */
static void advance(struct fz *f, int steps, uint64_t *now)
{
	int delivered = 0;

	while (delivered < steps) {
		if (f->qh != f->qt) {
			int slot = f->qh++ % MAXQ;

			*now += 10;
			if (f->qto[slot] == f->target) {
				delivered++;
			}
			(void)prov_rx(f->s[f->qto[slot]], f->q[slot], f->qlen[slot], *now);
			continue;
		}
		if (f->requested[0] && f->shown[1][0]) {
			f->requested[0] = false;
			(void)prov_input_oob(f->s[0], f->shown[1]);
		} else if (f->requested[1] && f->shown[0][0]) {
			f->requested[1] = false;
			(void)prov_input_oob(f->s[1], f->shown[0]);
		} else {
			break;
		}
	}
	f->cut = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f;
	struct side_ctx sc[2];
	struct prov_cfg cfg[2];
	uint64_t now = 1000;
	uint8_t mode;
	size_t i;

	if (size < 1) {
		return 0;
	}
	mode = data[0];
	memset(&f, 0, sizeof(f));
	f.rng_state = 0x2545f4914f6cdd1dull;
	f.target = (mode & 1) ? 0 : 1;
	configure((uint8_t)((mode >> 4) & 7), &cfg[0], &cfg[1]);
	for (int k = 0; k < 2; k++) {
		struct prov_ops ops = {.ctx = &sc[k],
				       .send = fz_send,
				       .output_oob = fz_output,
				       .input_oob_request = fz_request,
				       .done = fz_done,
				       .failed = fz_failed};
		struct mesh_rng rng = {.fn = fz_rng, .ctx = &f};

		sc[k].fz = &f;
		sc[k].idx = k;
		if (prov_new(&cfg[k], &ops, &rng, &f.s[k])) {
			abort();
		}
	}
	(void)prov_start(f.s[1], now);
	(void)prov_start(f.s[0], now);
	advance(&f, (mode >> 1) & 7, &now);

	for (i = 1; i < size;) {
		uint8_t len = data[i++];

		if (len == 0xfe) {
			now += PROV_TIMEOUT_MS;
			prov_tick(f.s[f.target], now);
			(void)prov_next_deadline(f.s[f.target]);
		} else if (len == 0xff) {
			char text[32];
			size_t n = i < size ? data[i++] % sizeof(text) : 0;

			if (n > size - i) {
				n = size - i;
			}
			memcpy(text, data + i, n);
			text[n] = '\0';
			i += n;
			(void)prov_input_oob(f.s[f.target], text);
		} else {
			if (len > size - i) {
				len = (uint8_t)(size - i);
			}
			now += 10;
			(void)prov_rx(f.s[f.target], data + i, len, now);
			i += len;
		}
	}
	(void)prov_phase(f.s[f.target]);
	prov_free(f.s[0]);
	prov_free(f.s[1]);
	return 0;
}
