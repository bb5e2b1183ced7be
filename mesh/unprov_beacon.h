/*
 * Unprovisioned Device beacon (Mesh Protocol v1.1 §3.10.2; formats.md §3),
 * the Mesh Beacon AD (type 0x2B) payload a device sends until provisioned:
 *
 *   Beacon Type 0x00 (1) || Device UUID (16) || OOB Information (2, BE)
 *   [|| URI Hash (4)]
 *
 * so 19 octets, or 23 with the URI Hash.  The URI Hash is the first 4
 * octets of s1(URI data), where URI data is the URI with its scheme replaced
 * by the scheme's code octet (e.g. 0x17 for "https:").
 */
#ifndef MESH_UNPROV_BEACON_H
#define MESH_UNPROV_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNPROV_BEACON_TYPE 0x00
#define UNPROV_BEACON_LEN 19
#define UNPROV_BEACON_URI_LEN 23

/* OOB Information bits (§3.10.2; formats.md §3). */
#define UNPROV_OOB_OTHER 0x0001
#define UNPROV_OOB_URI 0x0002
#define UNPROV_OOB_2D_CODE 0x0004
#define UNPROV_OOB_BAR_CODE 0x0008
#define UNPROV_OOB_NFC 0x0010
#define UNPROV_OOB_NUMBER 0x0020
#define UNPROV_OOB_STRING 0x0040
#define UNPROV_OOB_CERT 0x0080
#define UNPROV_OOB_RECORDS 0x0100
#define UNPROV_OOB_ON_BOX 0x0800
#define UNPROV_OOB_IN_BOX 0x1000
#define UNPROV_OOB_ON_PAPER 0x2000
#define UNPROV_OOB_IN_MANUAL 0x4000
#define UNPROV_OOB_ON_DEVICE 0x8000

struct unprov_beacon {
	uint8_t uuid[16];
	uint16_t oob_info;
	bool has_uri_hash;
	uint8_t uri_hash[4];
};

/*
 * Encode into out (cap octets); *out_len gets 19 or 23.  -ENOSPC when cap is
 * too small, -EINVAL on NULL arguments.
 */
int unprov_beacon_encode(const struct unprov_beacon *b, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Decode a beacon AD payload (after the AD length and type).  -EBADMSG when
 * the Beacon Type is not 0x00 or the length is neither 19 nor 23; *b is
 * written only on success.
 */
int unprov_beacon_decode(const uint8_t *data, size_t len, struct unprov_beacon *b);

/* hash = first 4 octets of s1(uri_data); crypto errors pass through. */
int unprov_beacon_uri_hash(const uint8_t *uri_data, size_t len, uint8_t hash[4]);

#endif /* MESH_UNPROV_BEACON_H */
