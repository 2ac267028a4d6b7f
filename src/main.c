/*
 * main: gancho's entry point — argument dispatch only.
 *
 *   gancho serve …          the gateway (src/server/serve.c)
 *   gancho <verb> …         everything else (src/cli/)
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "server/serve.h"

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("gancho %s\n", GANCHO_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return serve_main(argc - 1, argv + 1);
	return cli_main(argc - 1, argv + 1);
}
