/* SPDX-License-Identifier: GPL-2.0 */
/* The command line: options -> struct config. */
#ifndef LEAKSCOPE_CLI_H
#define LEAKSCOPE_CLI_H

#include "session.h"

/*
 * Parse argv into cfg. Returns 0, or EXIT_USAGE after printing one line that
 * names the problem and the fix. --help and --version exit(0) directly.
 */
int cli_parse(int argc, char **argv, struct config *cfg);

#endif
