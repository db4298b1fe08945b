/*
 * mig/error.h - error codes and the error value that travels up to cmd/.
 *
 * Every library function that can fail returns int: 0 (MIG_OK), a
 * positive MIG_DONE where a cursor has nothing more, or a negative MIG_E*
 * code.  On failure it has filled the caller-owned struct mig_error with a
 * one-line, lower-case message naming what failed and where.  Programs
 * print that message once and exit with mig_exit_code(code).
 */
#ifndef MIG_ERROR_H
#define MIG_ERROR_H

#include <signal.h>
#include <stdarg.h>

enum mig_code {
	MIG_OK = 0,
	MIG_EDATA = -1,     /* bad record / rejects over the limit: exit 1 */
	MIG_EUSAGE = -2,    /* bad command line or locator: exit 2 */
	MIG_EIO = -3,       /* store or file unreachable/unreadable/unwritable: exit 3 */
	MIG_EINTR = -4,     /* interrupted by a signal: exit 4 */
	MIG_ECORRUPT = -5,  /* corrupt archive or checkpoint: exit 5 */
	MIG_ENOMEM = -6,    /* out of memory: exit 3 */
	MIG_EPIPE = -7      /* the reader of our output went away: exit 0, quietly */
};

/* A cursor's "nothing more" answer; never an error. */
#define MIG_DONE 1

#define MIG_ERROR_MAX 1024

struct mig_error {
	int code;                 /* one of enum mig_code */
	char msg[MIG_ERROR_MAX];  /* NUL-terminated, no trailing newline */
};

/* Fills err (which may be NULL) and returns code, so that a failing path
 * stays one line: return mig_error_set(err, MIG_EIO, "%s: %s", p, why); */
int mig_error_set(struct mig_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mig_error_vset(struct mig_error *err, int code, const char *fmt, va_list ap);

/* Puts "CONTEXT: " in front of the message already in err; returns
 * err->code.  Used where a lower layer knows the why and the caller knows
 * the where. */
int mig_error_prefix(struct mig_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void mig_error_clear(struct mig_error *err);

/* Set by the programs' SIGINT/SIGTERM handler; loops in lib/ look at it
 * between records and stop with MIG_EINTR at a consistent point. */
extern volatile sig_atomic_t mig_interrupted;

/* The process exit status for a code (DESIGN.md section 3; mig(7)). */
int mig_exit_code(int code);

/* A short name of a code ("data", "usage", "io", ...), for reports. */
const char *mig_code_name(int code);

#endif
