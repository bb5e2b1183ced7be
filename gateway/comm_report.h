/*
 * The commission job's report as a technician downloads it: pure, no state.
 * GET /api/v1/jobs/{id}/report?format=csv prints what GET /jobs/{id}/report
 * answers as JSON (gateway/commission.c builds that).
 */
#ifndef GW_COMM_REPORT_H
#define GW_COMM_REPORT_H

#include <jansson.h>

/*
 * A report (the JSON of GET /jobs/{id}/report) as CSV, RFC 4180: a header
 * row, CRLF line ends, a field quoted when it holds a comma, a quote, CR or
 * LF (quotes doubled), and a field that a spreadsheet would take for a
 * formula (=, +, -, @ first) prefixed with a quote.  New string (free()),
 * NULL on allocation failure.
 */
char *gw_comm_report_csv(const json_t *report);

#endif
