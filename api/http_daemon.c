/*
 * The HTTP daemon's set-up and teardown: configuration, TLS files, the
 * file-descriptor budget, the API and metrics listeners, the reaper thread,
 * and the orderly stop that answers every waiting request first.
 */
#include "api/http_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/prom.h"

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

static unsigned or_default(unsigned v, unsigned def)
{
	return v ? v : def;
}

/*
 * One worker per online processor.  More threads than cores only adds
 * preemption to the tail: bench/api_wrk.sh, GET one node on 2 cores with
 * wrk's 2 threads beside meshgw, 4 workers gave p99 8.0 ms at 30,000 req/s
 * and 2 workers 3.3-3.5 ms at the same rate.  Each worker waits in epoll, so
 * idle or slow clients do not need more of them.
 */
static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1u : n > MAX_AUTO_THREADS ? MAX_AUTO_THREADS : (unsigned)n;
}

struct api *api_new(const struct api_conf *conf, struct gw_cmdq *q, const struct api_auth_ops *auth)
{
	struct api *api;
	struct in6_addr a6;
	struct in_addr a4;
	char real[PATH_MAX];

	if (!conf || !q || !auth || !auth->verify || !conf->tls_cert != !conf->tls_key) {
		return NULL;
	}
	if (conf->bind_addr && inet_pton(AF_INET, conf->bind_addr, &a4) != 1 &&
	    inet_pton(AF_INET6, conf->bind_addr, &a6) != 1) {
		return NULL;
	}
	if (conf->web_root && !realpath(conf->web_root, real)) {
		return NULL;
	}
	if (conf->metrics_addr && inet_pton(AF_INET, conf->metrics_addr, &a4) != 1 &&
	    inet_pton(AF_INET6, conf->metrics_addr, &a6) != 1) {
		return NULL;
	}
	api = calloc(1, sizeof(*api));
	if (!api) {
		return NULL;
	}
	pthread_mutex_init(&api->mtx, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&api->reaper_cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	api->q = q;
	api->auth = *auth;
	api->bind_addr = strdup(conf->bind_addr ? conf->bind_addr : "127.0.0.1");
	api->port = conf->port;
	api->tls_cert_path = dup_opt(conf->tls_cert);
	api->tls_key_path = dup_opt(conf->tls_key);
	api->web_root = conf->web_root ? strdup(real) : NULL;
	api->body_limit = conf->body_limit ? conf->body_limit : DEFAULT_BODY_LIMIT;
	api->timeout_ms = conf->cmd_timeout_ms > 0 ? conf->cmd_timeout_ms : DEFAULT_TIMEOUT_MS;
	api->max_conn = or_default(conf->max_connections, DEFAULT_MAX_CONN);
	api->max_per_ip = or_default(conf->max_per_ip, DEFAULT_MAX_PER_IP);
	api->threads = or_default(conf->threads, default_threads());
	api->io_timeout_s = or_default(conf->io_timeout_s, DEFAULT_IO_TIMEOUT_S);
	api->max_streams = or_default(conf->max_streams, DEFAULT_MAX_STREAMS);
	api->max_streams_per_token =
	    or_default(conf->max_streams_per_token, DEFAULT_MAX_STREAMS_PER_TOKEN);
	api->max_pending = or_default(conf->max_pending, DEFAULT_MAX_PENDING);
	api->metrics = api_metrics_new();
	api->peers = api_peers_new();
	api->mops = conf->metrics;
	api->metrics_addr = dup_opt(conf->metrics_addr);
	api->metrics_port = conf->metrics_port;
	api->sse =
	    api_sse_new(conf->sse_keepalive_ms, api->max_streams, api->max_streams_per_token);
	atomic_init(&api->stopping, false);
	if (!api->bind_addr || !api->sse || !api->metrics || !api->peers ||
	    (conf->metrics_addr && !api->metrics_addr) || (conf->tls_cert && !api->tls_cert_path) ||
	    (conf->tls_key && !api->tls_key_path) || (conf->web_root && !api->web_root)) {
		api_free(api);
		return NULL;
	}
	return api;
}

/* Reads a whole PEM file into a new NUL-terminated string. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size < 1024 * 1024) {
		buf = malloc((size_t)st.st_size + 1);
	}
	if (buf) {
		n = read(fd, buf, (size_t)st.st_size);
		if (n != st.st_size) {
			explicit_bzero(buf, (size_t)st.st_size);
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	close(fd);
	return buf;
}

/*
 * Every connection is a descriptor: raise the soft RLIMIT_NOFILE towards the
 * hard one if the cap needs it, and lower the cap to what the hard limit
 * allows (FD_RESERVE kept for the rest of the process).
 */
static unsigned fit_fd_limit(unsigned want)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)want + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		return want;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rlim_t old = rl.rlim_cur;

		rl.rlim_cur =
		    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			rl.rlim_cur = old;
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		return rl.rlim_cur > 2 * FD_RESERVE ? (unsigned)(rl.rlim_cur - FD_RESERVE)
						    : (unsigned)(rl.rlim_cur / 2);
	}
	return want;
}

/* addr (a literal api_new() checked) and port as a socket address; IPv6 adds MHD_USE_IPv6. */
static void fill_addr(const char *addr, uint16_t port, struct sockaddr_in6 *s6,
		      struct sockaddr_in *s4, const struct sockaddr **sa, unsigned *flags)
{
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*sa = (const struct sockaddr *)s4;
	} else {
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*sa = (const struct sockaddr *)s6;
		*flags |= MHD_USE_IPv6;
	}
}

/*
 * The metrics listener: one epoll thread and a few connections (scrapers are
 * few), the same handler, callbacks and token check as the API.
 */
static int start_metrics_listener(struct api *api)
{
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
	struct sockaddr_in6 s6 = {0};
	struct sockaddr_in s4 = {0};
	const struct sockaddr *sa;

	if (!api->metrics_addr) {
		return 0;
	}
	fill_addr(api->metrics_addr, api->metrics_port, &s6, &s4, &sa, &flags);
	api->md = MHD_start_daemon(
	    flags, 0, NULL, NULL, api_http_on_request, api, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONN,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_MAX_CONN / 2,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
	    MHD_OPTION_CONNECTION_TIMEOUT, api->io_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
	    api_http_on_completed, api, MHD_OPTION_NOTIFY_CONNECTION, api_http_on_connection, api,
	    MHD_OPTION_END);
	if (!api->md) {
		return errno == EADDRINUSE ? -EADDRINUSE : -EINVAL;
	}
	return 0;
}

/* libmicrohttpd's per-address limit: max_per_ip and an eighth more (at least 8). */
static unsigned per_ip_hard_limit(unsigned max_per_ip)
{
	return max_per_ip + (max_per_ip / 8 > 8 ? max_per_ip / 8 : 8);
}

int api_start(struct api *api)
{
	/*
	 * Event-driven: a small pool of epoll threads serves every connection, and
	 * requests waiting for the loop or for events are suspended, not threads.
	 */
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
	struct sockaddr_in6 s6 = {0};
	struct sockaddr_in s4 = {0};
	const struct sockaddr *sa;
	const union MHD_DaemonInfo *info;
	size_t cert_len = 0;
	int r;

	if (api->d) {
		return -EALREADY;
	}
	fill_addr(api->bind_addr, api->port, &s6, &s4, &sa, &flags);
	if (api->tls_cert_path) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			return -ENOTSUP;
		}
		if (!api->cert_pem) {
			api->cert_pem = read_file(api->tls_cert_path, &cert_len);
			api->key_pem = read_file(api->tls_key_path, &api->key_len);
		}
		if (!api->cert_pem || !api->key_pem) {
			return -EIO;
		}
		flags |= MHD_USE_TLS;
	}
	api->max_conn = fit_fd_limit(api->max_conn);
	struct MHD_OptionItem opts[] = {
	    {MHD_OPTION_SOCK_ADDR, 0, (void *)sa},
	    {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)api->threads, NULL},
	    {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)api->max_conn, NULL},
	    /*
	     * A hard stop above max_per_ip: up to it, start() answers 503 with
	     * Retry-After; libmicrohttpd can only close a connection at accept.
	     */
	    {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)per_ip_hard_limit(api->max_per_ip),
	     NULL},
	    {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)CONN_MEMORY_LIMIT, NULL},
	    /*
	     * Idle time allowed while a request is read and between requests of a
	     * kept-alive connection.  Suspended connections (waiting for the loop,
	     * idle event streams) are not timed.
	     */
	    {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)api->io_timeout_s, NULL},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)api_http_on_completed, api},
	    {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)api_http_on_connection, api},
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, api->cert_pem},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, api->key_pem},
	    {MHD_OPTION_END, 0, NULL},
	};

	if (!api->cert_pem) {
		opts[8].option = MHD_OPTION_END;
	}
	atomic_store(&api->stopping, false);
	api_sse_shutdown(api->sse, false);
	api->d = MHD_start_daemon(flags, 0, NULL, NULL, api_http_on_request, api, MHD_OPTION_ARRAY,
				  opts, MHD_OPTION_END);
	if (!api->d) {
		return errno == EADDRINUSE ? -EADDRINUSE : -EINVAL;
	}
	api->reaper_quit = false;
	r = start_metrics_listener(api);
	if (r || pthread_create(&api->reaper, NULL, api_http_reaper, api) != 0) {
		if (api->md) {
			MHD_stop_daemon(api->md);
			api->md = NULL;
		}
		MHD_stop_daemon(api->d);
		api->d = NULL;
		return r ? r : -EINVAL;
	}
	api->reaper_on = true;
	info = MHD_get_daemon_info(api->d, MHD_DAEMON_INFO_BIND_PORT);
	api->bound_port = info ? info->port : 0;
	return 0;
}

uint16_t api_port(const struct api *api)
{
	return api && api->d ? api->bound_port : 0;
}

void api_stop(struct api *api)
{
	if (!api || !api->d) {
		return;
	}
	/*
	 * libmicrohttpd must not be stopped with suspended connections: every
	 * waiting request is resumed (answered 503) and every stream ended first.
	 * A request suspending after this sees the flag in park().
	 */
	atomic_store(&api->stopping, true);
	pthread_mutex_lock(&api->mtx);
	for (struct req *rq = api->pending; rq; rq = rq->next) {
		api_http_wake(rq);
	}
	api->reaper_quit = true;
	pthread_cond_signal(&api->reaper_cond);
	pthread_mutex_unlock(&api->mtx);
	api_sse_shutdown(api->sse, true);
	if (api->reaper_on) {
		pthread_join(api->reaper, NULL);
		api->reaper_on = false;
	}
	if (api->md) {
		MHD_stop_daemon(api->md);
		api->md = NULL;
	}
	MHD_stop_daemon(api->d);
	api->d = NULL;
	api->bound_port = 0;
}

uint16_t api_metrics_port(const struct api *api)
{
	const union MHD_DaemonInfo *info;

	if (!api || !api->md) {
		return 0;
	}
	info = MHD_get_daemon_info(api->md, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : 0;
}

void api_set_reads(struct api *api, const struct api_read_ops *ops)
{
	api->reads = ops ? *ops : (struct api_read_ops){0};
}

void api_free(struct api *api)
{
	if (!api) {
		return;
	}
	api_stop(api);
	api_sse_free(api->sse);
	if (api->key_pem) {
		explicit_bzero(api->key_pem, api->key_len);
	}
	free(api->key_pem);
	free(api->cert_pem);
	free(api->bind_addr);
	free(api->tls_cert_path);
	free(api->tls_key_path);
	free(api->web_root);
	free(api->metrics_addr);
	api_metrics_free(api->metrics);
	api_peers_free(api->peers);
	pthread_cond_destroy(&api->reaper_cond);
	pthread_mutex_destroy(&api->mtx);
	free(api);
}
