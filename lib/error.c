/* error.c - struct mig_error and the exit table of DESIGN.md s. 3. */
#include <stdio.h>
#include <string.h>

#include "mig/error.h"

volatile sig_atomic_t mig_interrupted;

int mig_error_vset(struct mig_error *err, int code, const char *fmt, va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		/* one line: a store's multi-line message is folded */
		for (char *p = err->msg; *p; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		size_t n = strlen(err->msg);
		while (n && err->msg[n - 1] == ' ')
			err->msg[--n] = '\0';
	}
	return code;
}

int mig_error_set(struct mig_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	mig_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int mig_error_prefix(struct mig_error *err, const char *fmt, ...)
{
	char pre[MIG_ERROR_MAX], old[MIG_ERROR_MAX];
	va_list ap;

	if (!err)
		return MIG_EIO;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	size_t pl = strlen(pre), ol = strlen(old);
	if (pl > sizeof err->msg - 3)
		pl = sizeof err->msg - 3;
	memcpy(err->msg, pre, pl);
	memcpy(err->msg + pl, ": ", 2);
	if (ol > sizeof err->msg - pl - 3)
		ol = sizeof err->msg - pl - 3;
	memcpy(err->msg + pl + 2, old, ol);
	err->msg[pl + 2 + ol] = '\0';
	return err->code;
}

void mig_error_clear(struct mig_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

int mig_exit_code(int code)
{
	switch (code) {
	case MIG_OK:
	case MIG_DONE:
	case MIG_EPIPE:
		return 0;
	case MIG_EDATA:
		return 1;
	case MIG_EUSAGE:
		return 2;
	case MIG_EINTR:
		return 4;
	case MIG_ECORRUPT:
		return 5;
	case MIG_EIO:
	case MIG_ENOMEM:
	default:
		return 3;
	}
}

const char *mig_code_name(int code)
{
	switch (code) {
	case MIG_OK: return "ok";
	case MIG_DONE: return "done";
	case MIG_EDATA: return "data";
	case MIG_EUSAGE: return "usage";
	case MIG_EIO: return "io";
	case MIG_EINTR: return "interrupted";
	case MIG_ECORRUPT: return "corrupt";
	case MIG_ENOMEM: return "nomem";
	case MIG_EPIPE: return "pipe";
	default: return "unknown";
	}
}
