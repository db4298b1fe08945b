/*
 * cmd/common.h - the part of the common options that writes to stdout,
 * which only programs do (lib/ never prints to stdout nor exits).
 */
#ifndef MIG_CMD_COMMON_H
#define MIG_CMD_COMMON_H

#include <stdio.h>

#include "mig/cli.h"

/* mig_cli_common() plus --help and --version: returns MIG_CLI_NOT_COMMON,
 * MIG_CLI_HANDLED, or an exit code (0 after --help/--version). */
static inline int common_option(struct mig_cli *cli, int opt, const char *arg,
				const char *help)
{
	int rc = mig_cli_common(cli, opt, arg);

	if (rc == MIG_CLI_HELP || rc == MIG_CLI_VERSION) {
		fputs(rc == MIG_CLI_HELP ? help : mig_cli_version_text(cli), stdout);
		return fclose(stdout) ? 3 : 0;
	}
	return rc;
}

#endif
