/*
 * The commission job's report as a technician downloads it: pure, no state.
 * GET /api/v1/jobs/{id}/report answers a JSON object whose items are made
 * here from the targets (gateway/commission.c adds the rest); ?format=csv
 * prints it as CSV.
 */
#ifndef GW_COMM_REPORT_H
#define GW_COMM_REPORT_H

#include <jansson.h>

#include "storage/store_job.h"

/* The error of a target never heard starts so (the report's result never_heard). */
#define GW_COMM_NEVER_HEARD "never heard"

/*
 * One target's item of the report: {uuid, name, zone, address, path,
 * attempts, time_s, result, error}.  New reference; NULL when out of memory.
 */
json_t *gw_comm_report_item(const struct store_job_target *t);

/*
 * A report (the JSON of GET /jobs/{id}/report) as CSV, RFC 4180: a header
 * row, CRLF line ends, a field quoted when it holds a comma, a quote, CR or
 * LF (quotes doubled), and a field that a spreadsheet would take for a
 * formula (=, +, -, @ first) prefixed with a quote.  New string (free()),
 * NULL on allocation failure.
 */
char *gw_comm_report_csv(const json_t *report);

#endif
