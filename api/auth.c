#include "api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* token68 characters (RFC 9110 §11.2), the syntax of a bearer credential (RFC 6750 §2.1). */
static bool token68_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       strchr("-._~+/=", ch) != NULL;
}

int api_auth_token(const char *header, char *token, size_t cap)
{
	size_t n;

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
	if (n == 0 || n > API_TOKEN_MAX || n >= cap) {
		return -ENOENT;
	}
	for (size_t i = 0; i < n; i++) {
		if (!token68_char(header[i])) {
			return -ENOENT;
		}
	}
	memcpy(token, header, n);
	token[n] = '\0';
	return 0;
}

int api_auth_accept(int rc, char *who, size_t who_cap, enum api_role r, char *name, size_t name_cap,
		    enum api_role *role)
{
	if (rc != 0 || r < API_ROLE_VIEWER || r > API_ROLE_ADMIN) {
		return -EACCES;
	}
	who[who_cap - 1] = '\0';
	snprintf(name, name_cap, "%s", who);
	*role = r;
	return 0;
}

int api_auth_check(const struct api_auth_ops *ops, const char *header, char *name, size_t name_cap,
		   enum api_role *role)
{
	char token[API_TOKEN_MAX + 1];
	char who[64] = "";
	enum api_role r = API_ROLE_NONE;
	int rc = api_auth_token(header, token, sizeof(token));

	if (rc) {
		return rc;
	}
	rc = ops && ops->verify ? ops->verify(ops->ctx, token, who, sizeof(who), &r) : -EACCES;
	/* The token is a secret: do not leave it on this thread's stack. */
	explicit_bzero(token, sizeof(token));
	return api_auth_accept(rc, who, sizeof(who), r, name, name_cap, role);
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
