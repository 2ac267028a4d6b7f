/*
 * serve: `gancho serve` — open the store, load the registry, start the
 * engine and the HTTP server, wait for SIGTERM/SIGINT, shut down cleanly.
 */
#ifndef GANCHO_SERVER_SERVE_H
#define GANCHO_SERVER_SERVE_H

/* serve_main: argv[0] is "serve". Returns the process exit code. */
int serve_main(int argc, char **argv);

#endif
