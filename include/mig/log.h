/*
 * mig/log.h - messages on stderr, one per line, prefixed with the program.
 *
 * Nothing here writes to stdout.  Levels: -q lowers, -v raises.
 */
#ifndef MIG_LOG_H
#define MIG_LOG_H

enum mig_log_level {
	MIG_LOG_ERROR = 0,   /* always shown, even with --quiet */
	MIG_LOG_WARN = 1,
	MIG_LOG_INFO = 2,    /* the final summary line; default level */
	MIG_LOG_DEBUG = 3    /* -v */
};

/* name is borrowed for the life of the process (argv[0]'s basename). */
void mig_log_init(const char *program);
const char *mig_log_program(void);
void mig_log_set_level(int level);
int mig_log_level(void);

void mig_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define mig_warn(...) mig_log(MIG_LOG_WARN, __VA_ARGS__)
#define mig_info(...) mig_log(MIG_LOG_INFO, __VA_ARGS__)
#define mig_debug(...) mig_log(MIG_LOG_DEBUG, __VA_ARGS__)

/* Set by the progress line so that a log message first clears it. */
void mig_log_set_clear_hook(void (*hook)(void));

#endif
