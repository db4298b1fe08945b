/* progress.c - the live progress line on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mig/log.h"
#include "mig/progress.h"

struct mig_progress {
	int tty;
	char label[32];
	uint64_t total;
	double t0, last;
	unsigned tick;
	int shown;
};

static struct mig_progress *active;  /* the line to clear before a log message */

double mig_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int mig_progress_parse(const char *s, enum mig_progress_when *out)
{
	if (!s || strcmp(s, "always") == 0)
		*out = MIG_PROGRESS_ALWAYS;
	else if (strcmp(s, "auto") == 0)
		*out = MIG_PROGRESS_AUTO;
	else if (strcmp(s, "never") == 0)
		*out = MIG_PROGRESS_NEVER;
	else
		return -1;
	return 0;
}

static void clear_line(void)
{
	if (active && active->tty && active->shown) {
		fputs("\r\033[K", stderr);
		active->shown = 0;
	}
}

struct mig_progress *mig_progress_start(enum mig_progress_when when, const char *label,
					uint64_t total_bytes)
{
	int tty = isatty(2);
	struct mig_progress *p;

	if (when == MIG_PROGRESS_NEVER || (when == MIG_PROGRESS_AUTO && !tty))
		return NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->tty = tty;
	snprintf(p->label, sizeof p->label, "%s", label);
	p->total = total_bytes;
	p->t0 = p->last = mig_now();
	active = p;
	mig_log_set_clear_hook(clear_line);
	return p;
}

static void human(char *out, size_t n, double v, const char *unit)
{
	const char *sfx[] = { "", "k", "M", "G", "T" };
	int i = 0;
	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s%s" : "%.0f %s%s", v, sfx[i], unit);
}

static void draw(struct mig_progress *p, uint64_t records, uint64_t bytes, double now)
{
	double el = now - p->t0;
	char rate[32], size[32], eta[48] = "";

	human(rate, sizeof rate, el > 0 ? (double)records / el : 0, "rec/s");
	human(size, sizeof size, (double)bytes, "B");
	if (p->total && bytes && bytes <= p->total && el > 0) {
		double left = el * (double)(p->total - bytes) / (double)bytes;
		snprintf(eta, sizeof eta, ", %.0f%%, ETA %02d:%02d",
			 100.0 * (double)bytes / (double)p->total, (int)left / 60, (int)left % 60);
	}
	if (p->tty) {
		fprintf(stderr, "\r\033[K%s: %llu %s, %s, %s%s", mig_log_program(),
			(unsigned long long)records, p->label, size, rate, eta);
		p->shown = 1;
	} else {
		fprintf(stderr, "%s: progress: %llu %s, %s, %s%s\n", mig_log_program(),
			(unsigned long long)records, p->label, size, rate, eta);
	}
	fflush(stderr);
}

void mig_progress_update(struct mig_progress *p, uint64_t records, uint64_t bytes)
{
	double now;

	if (!p || (++p->tick & 255))
		return;
	now = mig_now();
	if (now - p->last < (p->tty ? 0.2 : 10.0))
		return;
	p->last = now;
	draw(p, records, bytes, now);
}

void mig_progress_end(struct mig_progress *p)
{
	if (!p)
		return;
	clear_line();
	active = NULL;
	mig_log_set_clear_hook(NULL);
	free(p);
}
