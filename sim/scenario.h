/*
 * meshsim scenario files (JSON): the air's parameters, the ports, and the
 * simulated devices with their provisioning capabilities and composition.
 * The schema is documented in sim/PORTS.md ("Scenario files").
 *
 * A scenario is imported data: sim_scenario_parse() validates the whole
 * document strictly (unknown members, wrong types, out-of-range values,
 * duplicates and inconsistent combinations are errors) and reports the
 * first problem with the JSON path of the offending field, e.g.
 * "devices[3].composition.elements[0].models[1]: not a 16-bit model id".
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/air.h"

#define SIM_SCN_NAME_MAX 63
#define SIM_SCN_ELEMENTS_MAX 32
#define SIM_SCN_MODELS_MAX 64 /* per element, SIG and vendor each */
#define SIM_SCN_BLUEZ_MAX 16
#define SIM_SCN_DEVICES_MAX 10000
#define SIM_SCN_ERR_MAX 256

/* Provisioning algorithms (Capabilities bit field, Mesh Protocol §5.4.1.2). */
#define SIM_SCN_ALG_CMAC 0x0001
#define SIM_SCN_ALG_HMAC 0x0002

/* Features bits of Composition Data page 0 (Mesh Protocol §4.2.2.1). */
#define SIM_SCN_FEAT_RELAY 0x0001
#define SIM_SCN_FEAT_PROXY 0x0002
#define SIM_SCN_FEAT_FRIEND 0x0004
#define SIM_SCN_FEAT_LPN 0x0008

struct sim_scn_vendor_model {
	uint16_t cid;
	uint16_t id;
};

struct sim_scn_element {
	uint16_t loc;
	size_t n_sig;
	uint16_t sig[SIM_SCN_MODELS_MAX];
	size_t n_vnd;
	struct sim_scn_vendor_model vnd[SIM_SCN_MODELS_MAX];
};

struct sim_scn_comp {
	uint16_t cid, pid, vid, crpl, features;
	size_t n_elements;
	struct sim_scn_element *elements; /* owned by the scenario */
};

#define SIM_SCN_CERT_MAX 8 /* certificates in a device's chain (PROV_REC_MAX records) */

struct sim_scn_device {
	char name[SIM_SCN_NAME_MAX + 1];
	char kind[SIM_SCN_NAME_MAX + 1]; /* device implementation, "node" by default */
	uint8_t uuid[16];
	struct sim_pos pos;
	/* OOB capabilities (Provisioning Capabilities PDU, §5.4.1.2) */
	size_t static_oob_len; /* 0 (none), 16 or 32 */
	uint8_t static_oob[32];
	uint8_t output_size; /* 0 = no output OOB, else 1..8 */
	uint16_t output_actions;
	uint8_t input_size; /* 0 = no input OOB, else 1..8 */
	uint16_t input_actions;
	bool public_key_oob;
	uint8_t private_key[32]; /* with public_key_oob: the device's fixed P-256 private key */
	uint16_t oob_info;       /* OOB Information field of the Unprovisioned Device beacon */
	uint16_t algorithms;     /* SIM_SCN_ALG_* bits, at least one */
	char *uri;               /* owned; NULL when absent */
	struct sim_scn_comp comp;
	bool has_comp128;
	struct sim_scn_comp comp128; /* pending Composition Data page 128 */
	bool relay, proxy, beacon;   /* initial Relay, GATT Proxy, Secure Network Beacon states */
	bool private_beacon;         /* sends Mesh Private beacons (Mesh 1.1 §3.10.4) */
	bool rpr_server;
	char *state_file; /* owned; NULL when absent */
	/*
	 * Certificate-based provisioning (scenario "certificate": {chain, key}):
	 * the chain's certificates as DER, the device's first (owned), and the
	 * certified P-256 key pair's private half, the device's OOB key pair.
	 */
	size_t n_cert; /* 0: no certificate */
	uint8_t *cert_der[SIM_SCN_CERT_MAX];
	size_t cert_len[SIM_SCN_CERT_MAX];
	uint8_t cert_priv[32];
};

struct sim_scn_bluez {
	char *path; /* owned: meshsim's socket for this daemon */
	char *peer; /* owned; NULL: learned from the daemon's first datagram */
	struct sim_pos pos;
};

/* An HCI port: a pty speaking H4 as a virtual LE controller (sim/hci_port.h). */
struct sim_scn_hci {
	char *path; /* owned: the symlink to the pty's slave */
	struct sim_pos pos;
	bool legacy;         /* profile "legacy" (4.2), else "extended" (5.2) */
	unsigned adv_sets;   /* extended: 1..16 advertising sets (default 4) */
	unsigned latency_ms; /* command latency, 0..1000 (default 1) */
};

#define SIM_SCN_HCI_MAX 16

struct sim_scenario {
	struct sim_air_params air;
	uint64_t seed;
	double time_scale;
	char *native_path; /* owned; NULL when the scenario has no native port */
	struct sim_pos native_pos;
	size_t n_bluez;
	struct sim_scn_bluez *bluez;
	size_t n_hci;
	struct sim_scn_hci *hci;
	size_t n_devices;
	struct sim_scn_device *devices;
};

/*
 * Parses and validates a scenario.  On success *out is a new scenario (free
 * with sim_scenario_free()).  On failure returns -EINVAL (invalid document,
 * err holds "path: reason") or -ENOMEM, and *out is untouched.  err may be
 * NULL.
 */
int sim_scenario_parse(const char *text, size_t len, struct sim_scenario **out, char *err,
		       size_t err_cap);
/* The same from a file; -ENOENT/-EACCES/-EIO when it cannot be read. */
int sim_scenario_load(const char *path, struct sim_scenario **out, char *err, size_t err_cap);
/* A new empty scenario with default air parameters. */
struct sim_scenario *sim_scenario_new(void);
void sim_scenario_free(struct sim_scenario *s);

/* Parses "PATH@x,y,z" (metres) as given on meshsim's command line. */
int sim_scenario_parse_port_arg(const char *arg, char **path, struct sim_pos *pos);

/*
 * Parses "PATH@x,y,z[,legacy|,ext:N][,latency=MS]" (meshsim's --hci-port)
 * into out, with the scenario's defaults for what is left out; out->path is
 * allocated.  -EINVAL on a malformed argument.
 */
int sim_scenario_parse_hci_arg(const char *arg, struct sim_scn_hci *out);

#endif /* SIM_SCENARIO_H */
