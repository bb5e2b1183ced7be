#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The static web page below api_conf.web_root.  libmicrohttpd hands us the
 * path already percent-decoded, so "%2e%2e" arrives as "..".  Two checks keep
 * requests inside the root: every segment must be a plain name (no "", ".",
 * "..", no leading dot, no backslash), and the resolved path of the file
 * (symbolic links followed) must still lie below the canonical root.
 */

struct ctype {
	const char *ext;
	const char *type;
};

static const struct ctype ctypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".yaml", "application/yaml"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".woff2", "font/woff2"},
    {".map", "application/json"},
};

const char *api_static_type(const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
		size_t e = strlen(ctypes[i].ext);

		if (n > e && strcasecmp(name + n - e, ctypes[i].ext) == 0) {
			return ctypes[i].type;
		}
	}
	return "application/octet-stream";
}

static bool safe_path(const char *url)
{
	const char *p = url;

	if (*p != '/' || strchr(url, '\\')) {
		return false;
	}
	while (*p == '/') {
		const char *seg = p + 1;
		const char *end = strchrnul(seg, '/');

		if (end == seg || seg[0] == '.') {
			return false;
		}
		p = end;
	}
	return *p == '\0';
}

static enum MHD_Result not_found(struct MHD_Connection *c)
{
	static const char body[] = "not found\n";
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result api_static_serve(struct MHD_Connection *c, const char *root, const char *url)
{
	char path[PATH_MAX], real[PATH_MAX];
	size_t rlen = root ? strlen(root) : 0;
	struct MHD_Response *r;
	enum MHD_Result ret;
	struct stat st;
	int fd;

	if (!root || strlen(url) > 1024) {
		return not_found(c);
	}
	if (strcmp(url, "/") == 0) {
		url = "/index.html";
	}
	if (!safe_path(url) ||
	    snprintf(path, sizeof(path), "%s%s", root, url) >= (int)sizeof(path) ||
	    !realpath(path, real) || strncmp(real, root, rlen) != 0 || real[rlen] != '/') {
		return not_found(c);
	}
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		return not_found(c);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return not_found(c);
	}
	/* The response closes fd when it is destroyed; on failure we still own it. */
	r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, api_static_type(real));
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}
