/*
 * mig/cli.h - what every program shares: the common options, --version,
 * signals, number parsing and the --report file.
 */
#ifndef MIG_CLI_H
#define MIG_CLI_H

#include <stdint.h>
#include <jansson.h>

#include "mig/error.h"
#include "mig/progress.h"

/* getopt_long codes of the common options (above any short option). */
enum {
	MIG_OPT_HELP = 'h',
	MIG_OPT_QUIET = 'q',
	MIG_OPT_VERBOSE = 'v',
	MIG_OPT_VERSION = 0x1000,
	MIG_OPT_PROGRESS,
	MIG_OPT_REPORT,
	MIG_OPT_FIRST_OWN = 0x1100   /* a program's own long-only options start here */
};

#define MIG_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, MIG_OPT_HELP }, \
	{ "quiet", no_argument, NULL, MIG_OPT_QUIET }, \
	{ "verbose", no_argument, NULL, MIG_OPT_VERBOSE }, \
	{ "version", no_argument, NULL, MIG_OPT_VERSION }, \
	{ "progress", optional_argument, NULL, MIG_OPT_PROGRESS }, \
	{ "report", required_argument, NULL, MIG_OPT_REPORT }

#define MIG_COMMON_HELP \
	"  --progress[=WHEN]   progress on stderr: auto (a TTY), always, never\n" \
	"  --report FILE       write a JSON summary of the run to FILE\n" \
	"  -q, --quiet         no summary line\n" \
	"  -v, --verbose       more messages\n" \
	"  -h, --help          this help\n" \
	"      --version       versions of mig and its libraries\n"

struct mig_cli {
	const char *program;
	const char *usage;          /* the one-line synopsis, "usage: ..." */
	enum mig_progress_when progress;
	const char *report;
	int quiet;
	double t0;
	char summary[1024];         /* the final line, printed by mig_cli_finish */
};

/* Jansson's values come from a size-class free-list allocator (lib/alloc.c)
 * once this is called: the first thing a program does, before any json_t
 * exists.  Memory that Jansson hands out (json_dumps) must then be freed
 * with mig_json_free, never free(). */
void mig_json_alloc_init(void);
void mig_json_free(void *p);

/* Sets the log name, the allocator, SIGPIPE ignored, SIGINT/SIGTERM to
 * mig_interrupted. */
void mig_cli_init(struct mig_cli *cli, const char *program, const char *usage);

/* What mig_cli_common() answers. */
enum {
	MIG_CLI_NOT_COMMON = -2,  /* not a common option: the program's own */
	MIG_CLI_HANDLED = -1,     /* taken; parsing goes on */
	MIG_CLI_HELP = -3,        /* --help: the program prints its help, exit 0 */
	MIG_CLI_VERSION = -4      /* --version: print mig_cli_version_text(), exit 0 */
	/* >= 0: a usage error was printed to stderr; exit with that code */
};
int mig_cli_common(struct mig_cli *cli, int opt, const char *arg);

/* "PROG VERSION\n" and one line per linked library; a static buffer. */
const char *mig_cli_version_text(const struct mig_cli *cli);

/* Prints "PROG: MSG" and the usage line to stderr; returns exit code 2. */
int mig_cli_usage_error(struct mig_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Numbers: "123", sizes with k/M/G suffixes (powers of 1024). Return 0 or -1. */
int mig_parse_u64(const char *s, uint64_t *out);
int mig_parse_size(const char *s, uint64_t *out);

/* Writes report (borrowed) to path as pretty JSON, atomically (temp file
 * and rename). */
int mig_report_write(const char *path, const json_t *report, struct mig_error *err);

/* Sets the one-line summary that mig_cli_finish prints (unless --quiet)
 * after the error, if any. */
void mig_cli_summary(struct mig_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Ends a run: prints err (if rc < 0 and not EPIPE) once, then the summary,
 * writes --report
 * (adding "status", "exit_code", "error", "seconds" to report, which it
 * takes), and returns the exit code. */
int mig_cli_finish(struct mig_cli *cli, int rc, const struct mig_error *err, json_t *report);

#endif
