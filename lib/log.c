/* log.c - stderr messages prefixed with the program name. */
#include <stdarg.h>
#include <stdio.h>

#include "mig/log.h"

static const char *program = "mig";
static int level = MIG_LOG_INFO;
static void (*clear_hook)(void);

void mig_log_init(const char *name)
{
	const char *slash = name;
	for (const char *p = name; p && *p; p++)
		if (*p == '/')
			slash = p + 1;
	program = slash && *slash ? slash : "mig";
}

const char *mig_log_program(void) { return program; }
void mig_log_set_level(int l) { level = l; }
int mig_log_level(void) { return level; }
void mig_log_set_clear_hook(void (*hook)(void)) { clear_hook = hook; }

void mig_log(int l, const char *fmt, ...)
{
	va_list ap;

	if (l > level)
		return;
	if (clear_hook)
		clear_hook();
	fprintf(stderr, "%s: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
