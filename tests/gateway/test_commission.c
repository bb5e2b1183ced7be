/*
 * The pure parts of the commission job (gateway/commission.h): the order of
 * paths an attempt tries, and the report as CSV.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/comm_report.h"
#include "gateway/commission.h"

static const uint8_t A[16] = {0xaa, 1};
static const uint8_t B[16] = {0xbb, 2};

static struct gw_comm_sighting sight(const uint8_t *uuid, uint16_t via, int8_t rssi)
{
	struct gw_comm_sighting s = {.via = via, .rssi = rssi};

	memcpy(s.uuid, uuid, 16);
	return s;
}

Test(commission, paths_best_server_first_and_local_before_all)
{
	struct gw_comm_sighting s[] = {
	    sight(A, 0x0010, -80), sight(B, 0x0020, -30), sight(A, 0x0030, -50),
	    sight(A, 0x0040, -50), sight(A, 0x0010, -60), /* a second report, stronger */
	};
	uint16_t out[8];

	/* Servers strongest first (0x0010 at its best, -60); a tie goes to the lower address. */
	cr_assert_eq(gw_comm_paths(s, 5, A, 1, out, 8), 3);
	cr_assert_eq(out[0], 0x0030);
	cr_assert_eq(out[1], 0x0040);
	cr_assert_eq(out[2], 0x0010);
	/* The gateway's own sighting comes before any server, however weak. */
	s[1] = sight(A, 0, -95);
	cr_assert_eq(gw_comm_paths(s, 5, A, 1, out, 8), 4);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 0x0030);
	/* Nobody heard B now. */
	cr_assert_eq(gw_comm_paths(s, 5, B, 1, out, 8), 0);
}

Test(commission, paths_rotate_with_attempts)
{
	struct gw_comm_sighting s[] = {sight(A, 0, -40), sight(A, 0x0005, -45),
				       sight(A, 0x0006, -70)};
	uint16_t out[8];

	cr_assert_eq(gw_comm_paths(s, 3, A, 2, out, 8), 3);
	cr_assert_eq(out[0], 0x0005, "the 2nd attempt starts at the next-best path");
	cr_assert_eq(out[1], 0x0006);
	cr_assert_eq(out[2], 0x0000, "then wraps around");
	cr_assert_eq(gw_comm_paths(s, 3, A, 4, out, 8), 3);
	cr_assert_eq(out[0], 0x0000, "the 4th of three paths is the first again");
	/* max bounds the output. */
	cr_assert_eq(gw_comm_paths(s, 3, A, 1, out, 2), 2);
	/* attempt 0 (a resumed attempt before any was counted) is the first. */
	cr_assert_eq(gw_comm_paths(s, 3, A, 0, out, 8), 3);
	cr_assert_eq(out[0], 0x0000);
}

/* A device's ring: 1 heard by the gateway, else one past the nearest known server that hears it. */
Test(commission, ring_from_the_nearest_server)
{
	const uint16_t srv[] = {0x0010, 0x0020, 0x0030};
	const uint8_t ring[] = {1, 3, GW_COMM_RING_FAR};
	struct gw_comm_sighting s[] = {sight(A, 0x0020, -40), sight(A, 0x0010, -90),
				       sight(A, 0x0040, -30), sight(A, 0, -95)};

	/* The strongest sighting is not the nearest ring: 0x0010 (ring 1) beats 0x0020 (ring 3). */
	cr_assert_eq(gw_comm_ring(s, 2, srv, ring, 3), 2);
	cr_assert_eq(gw_comm_ring(s, 1, srv, ring, 3), 4);
	/* A server the job does not know (0x0040) or of unknown ring (0x0030) gives no ring. */
	cr_assert_eq(gw_comm_ring(&s[2], 1, srv, ring, 3), GW_COMM_RING_FAR);
	s[2].via = 0x0030;
	cr_assert_eq(gw_comm_ring(&s[2], 1, srv, ring, 3), GW_COMM_RING_FAR);
	/* Heard by the gateway, however weakly: ring 1. */
	cr_assert_eq(gw_comm_ring(s, 4, srv, ring, 3), 1);
	cr_assert_eq(gw_comm_ring(s, 0, srv, ring, 3), GW_COMM_RING_FAR);
}

Test(commission, report_csv_quotes_per_rfc4180)
{
	json_t *rep = json_pack(
	    "{s:[{s:s, s:s, s:s, s:i, s:s, s:i, s:f, s:s, s:n},"
	    "    {s:s, s:s, s:n, s:n, s:i, s:i, s:n, s:s, s:s}], s:[]}",
	    "items", "uuid", "00112233445566778899aabbccddeeff", "name", "lamp \"A\", desk", "zone",
	    "floor 1\r\nnorth", "address", 0x12, "path", "local", "attempts", 1, "time_s", 2.5,
	    "result", "provisioned", "error", "uuid", "ffeeddccbbaa99887766554433221100", "name",
	    "=HYPERLINK(\"x\")", "zone", "address", "path", 0x0105, "attempts", 4, "time_s",
	    "result", "failed", "error", "gave up after 4 attempts: link, timeout", "unlisted");
	char *csv = gw_comm_report_csv(rep);

	cr_assert_not_null(csv);
	cr_assert_str_eq(csv,
			 "uuid,name,zone,address,path,attempts,time_s,result,error\r\n"
			 "00112233445566778899aabbccddeeff,\"lamp \"\"A\"\", desk\","
			 "\"floor 1\r\nnorth\",0x0012,local,1,2.5,provisioned,\r\n"
			 "ffeeddccbbaa99887766554433221100,\"'=HYPERLINK(\"\"x\"\")\",,,0x0105,4,,"
			 "failed,\"gave up after 4 attempts: link, timeout\"\r\n");
	free(csv);
	json_decref(rep);
}

Test(commission, report_csv_of_no_items_is_the_header)
{
	json_t *rep = json_pack("{s:[], s:[]}", "items", "unlisted");
	char *csv = gw_comm_report_csv(rep);

	cr_assert_str_eq(csv, "uuid,name,zone,address,path,attempts,time_s,result,error\r\n");
	free(csv);
	json_decref(rep);
}
