/*
 * Control commands (ctl.h; sim/PORTS.md "Control socket").
 */
#include "sim/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char help_text[] =
    "commands:\n"
    "  stats              airtime statistics (JSON)\n"
    "  list               devices and ports (JSON)\n"
    "  loss P             set the global loss probability, 0 <= P <= 1\n"
    "  oob                values devices displayed, e.g. Output OOB (JSON)\n"
    "  dev N ARGS...      pass ARGS to device N (e.g. an Input OOB value); node devices:\n"
    "                     status, input VALUE, onoff, press [on|off], comp128 HEX,\n"
    "                     reset, power off, power on\n"
    "  hci N CMD          HCI port N: status, hang, resume, hangup [MS], plug,\n"
    "                     hwerror [CODE], garbage\n"
    "  save [PATH]        save device state\n"
    "  quit               stop meshsim (statistics are written if --stats-out)\n"
    "  help               this text\n";

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* JSON reply with a trailing newline; takes the reference. */
static char *json_reply(json_t *j)
{
	char *s, *r;

	if (!j) {
		return fmt("error: out of memory\n");
	}
	s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (!s) {
		return NULL;
	}
	r = fmt("%s\n", s);
	free(s);
	return r;
}

/* Splits off the first word of *s (in place); NULL when none is left. */
static char *word(char **s)
{
	char *p = *s, *start;

	while (*p == ' ' || *p == '\t' || *p == '\r') {
		p++;
	}
	if (!*p) {
		*s = p;
		return NULL;
	}
	start = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\r') {
		p++;
	}
	if (*p) {
		*p++ = '\0';
	}
	*s = p;
	return start;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9') {
		return false;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max) {
		return false;
	}
	*out = v;
	return true;
}

char *sim_ctl_exec(struct sim_world *w, const char *line, uint64_t now_us,
		   const struct sim_ctl_hooks *hooks)
{
	char buf[SIM_CTL_LINE_MAX];
	char *rest = buf, *cmd, *arg;

	snprintf(buf, sizeof(buf), "%s", line ? line : "");
	cmd = word(&rest);
	if (!cmd) {
		return fmt("error: empty command (try \"help\")\n");
	}
	if (!strcmp(cmd, "help")) {
		return fmt("%s", help_text);
	}
	if (!strcmp(cmd, "stats")) {
		return json_reply(sim_air_stats_json(sim_world_air(w), now_us));
	}
	if (!strcmp(cmd, "list")) {
		json_t *o = json_object(), *ports = NULL;

		if (o) {
			json_object_set_new(o, "time_us", json_integer((json_int_t)now_us));
			json_object_set_new(o, "devices", sim_world_list_json(w));
			if (hooks && hooks->ports_json) {
				ports = hooks->ports_json(hooks->ctx);
			}
			json_object_set_new(o, "ports", ports ? ports : json_null());
		}
		return json_reply(o);
	}
	if (!strcmp(cmd, "oob")) {
		return json_reply(sim_world_displays_json(w));
	}
	if (!strcmp(cmd, "loss")) {
		char *end;
		double p;

		arg = word(&rest);
		if (!arg || word(&rest)) {
			return fmt("error: usage: loss P\n");
		}
		p = strtod(arg, &end);
		if (*end || sim_air_set_loss(sim_world_air(w), p) < 0) {
			return fmt("error: loss must be a number from 0 to 1\n");
		}
		return fmt("ok loss %g\n", p);
	}
	if (!strcmp(cmd, "dev")) {
		char out[512] = "";
		unsigned long n;
		int err;

		arg = word(&rest);
		if (!parse_uint(arg, UINT32_MAX, &n)) {
			return fmt("error: usage: dev N ARGS...\n");
		}
		while (*rest == ' ' || *rest == '\t') {
			rest++;
		}
		err = sim_world_device_ctl(w, (unsigned)n, rest, now_us, out, sizeof(out));
		if (err == -ENOENT) {
			return fmt("error: no device %lu\n", n);
		}
		if (err == -ENOTSUP) {
			return fmt("error: device %lu takes no commands\n", n);
		}
		if (err < 0) {
			return fmt("error: %s%s%s\n", strerror(-err), out[0] ? ": " : "", out);
		}
		return fmt("%s\n", out[0] ? out : "ok");
	}
	if (!strcmp(cmd, "hci")) {
		unsigned long n;
		char *r = NULL;
		int err;

		arg = word(&rest);
		if (!parse_uint(arg, UINT32_MAX, &n)) {
			return fmt("error: usage: hci N COMMAND\n");
		}
		while (*rest == ' ' || *rest == '\t') {
			rest++;
		}
		if (!hooks || !hooks->hci) {
			return fmt("error: no hci port %lu\n", n);
		}
		err = hooks->hci(hooks->ctx, n, rest, now_us, &r);
		if (err == -ENOENT) {
			return fmt("error: no hci port %lu\n", n);
		}
		if (err < 0) {
			return fmt("error: %s\n", strerror(-err));
		}
		return r;
	}
	if (!strcmp(cmd, "save")) {
		char msg[128] = "";
		int err;

		arg = word(&rest);
		if (word(&rest)) {
			return fmt("error: usage: save [PATH]\n");
		}
		if (!hooks || !hooks->save) {
			return fmt("error: saving is not available\n");
		}
		err = hooks->save(hooks->ctx, arg, msg, sizeof(msg));
		if (err < 0) {
			return fmt("error: save: %s\n", strerror(-err));
		}
		return fmt("ok %s\n", msg);
	}
	if (!strcmp(cmd, "quit")) {
		if (!hooks || !hooks->quit) {
			return fmt("error: quit is not available\n");
		}
		hooks->quit(hooks->ctx);
		return fmt("ok\n");
	}
	return fmt("error: unknown command \"%.64s\" (try \"help\")\n", cmd);
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, timeout_ms);

	if (n < 0) {
		return -errno;
	}
	return n == 0 ? -ETIMEDOUT : 0;
}

int sim_ctl_request(const char *path, const char *cmd, int timeout_ms, char **reply)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char *out = NULL, *line = NULL;
	size_t len = 0, cap = 0, off = 0, llen;
	int fd, err;

	if (!path || !cmd || !reply || strlen(path) >= sizeof(a.sun_path) || strchr(cmd, '\n') ||
	    strlen(cmd) >= SIM_CTL_LINE_MAX - 1) {
		return -EINVAL;
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = -errno;
		goto out_close;
	}
	line = fmt("%s\n", cmd);
	if (!line) {
		err = -ENOMEM;
		goto out_close;
	}
	llen = strlen(line);
	while (off < llen) {
		ssize_t n;

		if ((err = wait_fd(fd, POLLOUT, timeout_ms)) < 0) {
			goto out_close;
		}
		n = send(fd, line + off, llen - off, MSG_NOSIGNAL);
		if (n < 0) {
			err = -errno;
			goto out_close;
		}
		off += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > (256u << 20) || !(nb = realloc(out, cap))) {
				err = -ENOMEM;
				goto out_close;
			}
			out = nb;
		}
		if ((err = wait_fd(fd, POLLIN, timeout_ms)) < 0) {
			goto out_close;
		}
		n = recv(fd, out + len, cap - len - 1, 0);
		if (n < 0) {
			err = -errno;
			goto out_close;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	out[len] = '\0';
	*reply = out;
	out = NULL;
	err = 0;
out_close:
	free(line);
	free(out);
	close(fd);
	return err;
}
