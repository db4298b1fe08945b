/* cli.c - what every program shares. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bson/bson.h>
#include <jansson.h>
#include <zstd.h>

#include "mig/backend.h"
#include "mig/cli.h"
#include "mig/jsonfile.h"
#include "mig/log.h"
#include "mig/stream.h"

/* The first SIGINT or SIGTERM asks the program to stop at the next safe
 * point (the end of a batch, a blocked read): committed work is kept and the
 * report written.  A call into a client library can block for long on a
 * server that stopped answering (FerretDB under load, a half-open TCP
 * connection), and such a call may retry on EINTR; so a second signal takes
 * the default action at once. */
static void on_signal(int sig)
{
	static const char msg[] = ": interrupted; stopping at the next safe point "
				  "(signal again to stop at once)\n";
	const char *prog = mig_log_program();

	if (mig_interrupted) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	mig_interrupted = 1;
	if (prog && write(STDERR_FILENO, prog, strlen(prog)) >= 0 &&
	    write(STDERR_FILENO, msg, sizeof msg - 1) >= 0) {
		/* nothing more can be done about a failed write here */
	}
}

void mig_cli_init(struct mig_cli *cli, const char *program, const char *usage)
{
	struct sigaction sa;

	mig_json_alloc_init();
	memset(cli, 0, sizeof *cli);
	cli->program = program;
	cli->usage = usage;
	cli->t0 = mig_now();
	mig_log_init(program);
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;   /* no SA_RESTART: a blocked read returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

const char *mig_cli_version_text(const struct mig_cli *cli)
{
	static char text[1024];
	size_t n;

	n = (size_t)snprintf(text, sizeof text, "%s %s\njansson %s\nlibzstd %s\nlibbson %s\n",
			     cli->program, MIG_VERSION, jansson_version_str(),
			     ZSTD_versionString(), bson_get_version());
	for (const struct mig_backend_ops *const *b = mig_backend_all(); *b; b++)
		if ((*b)->lib_version && n < sizeof text)
			n += (size_t)snprintf(text + n, sizeof text - n, "%s\n", (*b)->lib_version());
	return text;
}

int mig_cli_common(struct mig_cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case MIG_OPT_HELP:
		return MIG_CLI_HELP;
	case MIG_OPT_VERSION:
		return MIG_CLI_VERSION;
	case MIG_OPT_QUIET:
		cli->quiet = 1;
		mig_log_set_level(MIG_LOG_WARN);
		return MIG_CLI_HANDLED;
	case MIG_OPT_VERBOSE:
		mig_log_set_level(mig_log_level() + 1);
		return MIG_CLI_HANDLED;
	case MIG_OPT_PROGRESS:
		if (mig_progress_parse(arg, &cli->progress))
			return mig_cli_usage_error(cli, "--progress takes auto, always or never, "
						   "not '%s'", arg);
		return MIG_CLI_HANDLED;
	case MIG_OPT_REPORT:
		cli->report = arg;
		return MIG_CLI_HANDLED;
	default:
		return MIG_CLI_NOT_COMMON;
	}
}

int mig_cli_usage_error(struct mig_cli *cli, const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fprintf(stderr, "%s: ", cli->program);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "%s\nTry '%s --help' for more information.\n", cli->usage, cli->program);
	return 2;
}

int mig_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int mig_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		if (end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))
			return -1;
	}
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int mig_report_write(const char *path, const json_t *report, struct mig_error *err)
{
	return mig_jsonfile_write(path, report, "report", err);
}

void mig_cli_summary(struct mig_cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cli->summary, sizeof cli->summary, fmt, ap);
	va_end(ap);
}

int mig_cli_finish(struct mig_cli *cli, int rc, const struct mig_error *err, json_t *report)
{
	int code = mig_exit_code(rc);
	struct mig_error rerr;

	if (rc < 0 && rc != MIG_EPIPE)
		mig_log(MIG_LOG_ERROR, "%s", err && err->msg[0] ? err->msg : mig_code_name(rc));
	if (cli->summary[0] && rc != MIG_EUSAGE)
		mig_info("%s", cli->summary);
	if (cli->report) {
		if (!report)
			report = json_object();
		json_object_set_new(report, "program", json_string(cli->program));
		json_object_set_new(report, "version", json_string(MIG_VERSION));
		json_object_set_new(report, "status", json_string(rc < 0 && rc != MIG_EPIPE
								  ? mig_code_name(rc) : "ok"));
		json_object_set_new(report, "exit_code", json_integer(code));
		json_object_set_new(report, "error", rc < 0 && rc != MIG_EPIPE && err
				    ? json_string(err->msg) : json_null());
		json_object_set_new(report, "seconds", json_real(mig_now() - cli->t0));
		if (mig_report_write(cli->report, report, &rerr)) {
			mig_log(MIG_LOG_ERROR, "%s", rerr.msg);
			if (!code)
				code = 3;
		}
	}
	json_decref(report);
	return code;
}
