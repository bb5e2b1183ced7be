#include "api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest token accepted; the gateway's tokens are far shorter (hex of 32 octets). */
#define TOKEN_MAX 256

/* token68 characters (RFC 9110 §11.2), the syntax of a bearer credential (RFC 6750 §2.1). */
static bool token68_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       strchr("-._~+/=", ch) != NULL;
}

int api_auth_check(const struct api_auth_ops *ops, const char *header, char *name, size_t name_cap,
		   enum api_role *role)
{
	char token[TOKEN_MAX + 1];
	char who[64];
	enum api_role r = API_ROLE_NONE;
	size_t n;
	int rc;

	if (!header || strncasecmp(header, "Bearer ", 7) != 0) {
		return -ENOENT;
	}
	header += 7;
	while (*header == ' ') {
		header++;
	}
	n = strlen(header);
	while (n && header[n - 1] == ' ') {
		n--;
	}
	if (n == 0 || n > TOKEN_MAX) {
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		if (!token68_char(header[i])) {
			return -ENOENT;
		}
	}
	memcpy(token, header, n);
	token[n] = '\0';
	who[0] = '\0';
	rc = ops && ops->verify ? ops->verify(ops->ctx, token, who, sizeof(who), &r) : -EACCES;
	/* The token is a secret: do not leave it on this thread's stack. */
	explicit_bzero(token, sizeof(token));
	if (rc != 0 || r < API_ROLE_VIEWER || r > API_ROLE_ADMIN) {
		return -EACCES;
	}
	who[sizeof(who) - 1] = '\0';
	snprintf(name, name_cap, "%s", who);
	*role = r;
	return 0;
}

const char *api_role_name(enum api_role role)
{
	switch (role) {
	case API_ROLE_VIEWER:
		return "viewer";
	case API_ROLE_OPERATOR:
		return "operator";
	case API_ROLE_ADMIN:
		return "admin";
	case API_ROLE_NONE:
		break;
	}
	return "none";
}
