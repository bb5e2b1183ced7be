#include "api/api_int.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

/*
 * One table from the core's negative errno codes to HTTP statuses
 * (../shared/style.md §2.4).  tests/api/test_problem.c scans gateway/, storage/
 * and mesh/ for every -E... code they return and fails when one is missing
 * here, so a new code cannot silently become a 500.
 */
struct errmap {
	int err;
	const char *name;
	unsigned status;
};

#define ROW(e, s)                                                                                  \
	{                                                                                          \
		e, #e, s                                                                           \
	}
static const struct errmap errmap[] = {
    ROW(EINVAL, 400),       /* bad argument: the request's meaning is wrong */
    ROW(ERANGE, 400),       /* a value outside what the network allows */
    ROW(EACCES, 403),       /* authentication failed (token, or OOB confirmation) */
    ROW(EPERM, 403),        /* not allowed in this state or for this principal */
    ROW(ENOENT, 404),       /* no such node, session, key, operation */
    ROW(EEXIST, 409),       /* already provisioned, key index in use */
    ROW(EBUSY, 409),        /* a conflicting operation is running */
    ROW(EALREADY, 409),     /* the operation is already in progress or done */
    ROW(ESTALE, 409),       /* a later operation on the same thing superseded this one */
    ROW(ECANCELED, 409),    /* the session or operation was cancelled */
    ROW(ENOMSG, 409),       /* the node has no model for this message (its composition says) */
    ROW(ENOSPC, 507),       /* address range or storage exhausted */
    ROW(EBADMSG, 502),      /* the node answered with a malformed PDU */
    ROW(EPROTO, 502),       /* the node broke the protocol (wrong status, bad PDU order) */
    ROW(ETIMEDOUT, 504),    /* the node did not answer in time */
    ROW(EAGAIN, 503),       /* try again later (bearer busy, queue full) */
    ROW(ENOMEM, 503),       /* out of memory: transient for the client */
    ROW(ESHUTDOWN, 503),    /* the daemon is stopping */
    ROW(ENODEV, 503),       /* no bearer attached */
    ROW(ENETDOWN, 503),     /* the HCI controller is down (re-opening) */
    ROW(EAFNOSUPPORT, 503), /* the kernel has no Bluetooth (hci:N bearer) */
    ROW(ENOTTY, 500),       /* the uart: bearer's path is not a serial port */
    ROW(ENOTSUP, 501),      /* a feature the node or the daemon lacks */
    ROW(EIO, 500),          /* storage or bearer failure */
    ROW(E2BIG, 400),        /* a value too large to send (segmented message limit) */
    ROW(EMSGSIZE, 400),     /* same, from the transport layer */
    ROW(ENOTCONN, 503),     /* link closed or not established */
    ROW(ECONNRESET, 502),   /* the remote closed the provisioning link */
    ROW(EILSEQ, 400),       /* invalid encoding in a supplied value */
    ROW(ECONNABORTED, 502), /* the provisioning link was aborted (Provisioning Failed) */
    ROW(ECONNREFUSED, 502), /* a Remote Provisioning Server refused to open the link */
    ROW(ENOBUFS, 503),      /* no free transmit buffer or session slot right now */
    ROW(ENOSYS, 501),       /* a command the core does not implement (yet) */
    ROW(EBADF, 500),        /* storage file corrupt or closed */
    ROW(ENOKEY, 500),       /* the master key cannot decrypt the stored keys */
    ROW(EKEYREJECTED, 500), /* another installation's master key (start-up only) */
    ROW(EUCLEAN, 500),      /* the inventory is corrupt: restore a backup */
    ROW(ENAMETOOLONG, 500), /* a configured path is too long */
    ROW(EADDRINUSE, 500),   /* a listening port is taken (start-up only) */
    ROW(EDOM, 422),         /* a well-formed document that contradicts itself (Mesh CDB) */
    ROW(EINPROGRESS, 409),  /* the device acted already: the attempt runs to its end */
    ROW(EXDEV, 409),        /* nodes that must share an AppKey do not (zone moves) */
    ROW(EUSERS, 503),       /* event streams at their cap (api/sse.c, max_streams) */
    ROW(EDQUOT, 503),       /* a token's event streams at their cap (max_streams_per_token) */
};
#undef ROW

static_assert(sizeof(errmap) / sizeof(errmap[0]) >= 15,
	      "the table must at least cover the contract's codes (api/problem.c)");

struct statusmap {
	unsigned status;
	const char *slug;
	const char *title;
};

/* Type URIs are URNs: stable names that need no web server (RFC 9457 §3.1.1). */
static const struct statusmap statusmap[] = {
    {400, "urn:meshgw:problem:bad-request", "Bad request"},
    {401, "urn:meshgw:problem:unauthorized", "Authentication required"},
    {403, "urn:meshgw:problem:forbidden", "Forbidden"},
    {404, "urn:meshgw:problem:not-found", "Not found"},
    {405, "urn:meshgw:problem:method-not-allowed", "Method not allowed"},
    {409, "urn:meshgw:problem:conflict", "Conflict"},
    {413, "urn:meshgw:problem:too-large", "Content too large"},
    {415, "urn:meshgw:problem:unsupported-media-type", "Unsupported media type"},
    {422, "urn:meshgw:problem:unprocessable", "Inconsistent content"},
    {500, "urn:meshgw:problem:internal", "Internal error"},
    {501, "urn:meshgw:problem:not-supported", "Not supported"},
    {502, "urn:meshgw:problem:node-error", "The node misbehaved"},
    {503, "urn:meshgw:problem:unavailable", "Service unavailable"},
    {504, "urn:meshgw:problem:timeout", "Timed out"},
    {507, "urn:meshgw:problem:no-space", "Insufficient space"},
};

unsigned api_problem_status(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errmap) / sizeof(errmap[0]); i++) {
		if (errmap[i].err == -err) {
			return errmap[i].status;
		}
	}
	return 500;
}

bool api_problem_known(const char *errno_name, unsigned *status)
{
	size_t i;

	for (i = 0; i < sizeof(errmap) / sizeof(errmap[0]); i++) {
		if (strcmp(errmap[i].name, errno_name) == 0) {
			*status = errmap[i].status;
			return true;
		}
	}
	/* EOPNOTSUPP and EWOULDBLOCK are aliases on Linux, so one row serves both. */
	if (strcmp(errno_name, "EOPNOTSUPP") == 0) {
		return api_problem_known("ENOTSUP", status);
	}
	if (strcmp(errno_name, "EWOULDBLOCK") == 0) {
		return api_problem_known("EAGAIN", status);
	}
	return false;
}

static const struct statusmap *status_row(unsigned status)
{
	size_t i;

	for (i = 0; i < sizeof(statusmap) / sizeof(statusmap[0]); i++) {
		if (statusmap[i].status == status) {
			return &statusmap[i];
		}
	}
	return status == 500 ? &statusmap[0] : status_row(500);
}

const char *api_problem_type(unsigned status)
{
	return status_row(status)->slug;
}

json_t *api_problem_new(unsigned status, const char *detail)
{
	const struct statusmap *row = status_row(status);

	return json_pack("{s:s, s:s, s:i, s:s}", "type", row->slug, "title", row->title, "status",
			 (int)status, "detail", detail && detail[0] ? detail : row->title);
}
