/*
 * cli: the everyday verbs of the gancho command line (everything but
 * `serve`). Verbs talk to a running server over its HTTP API, except
 * `company create` (works offline on the database) and `verify` (pure).
 */
#ifndef GANCHO_CLI_CLI_H
#define GANCHO_CLI_CLI_H

#include <stdio.h>

/* cli_main: run the verb argv[0] with its arguments; returns the exit code
 * (0 ok, 1 failure reported by the server or a failed verification, 2 usage). */
int cli_main(int argc, char **argv);
/* cli_usage: the top-level help listing every verb. */
void cli_usage(FILE *out);

#endif
