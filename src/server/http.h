/*
 * http: the HTTP/1.1 server around the API.
 *
 * A few event-loop threads (epoll), keep-alive and pipelining, no thread per
 * request. Bodies are read into a per-connection buffer up to max_body, or
 * the limit the API sets for the path (api_max_body: a source's
 * maxBodyBytes), 413 past it, without reading the rest. When the API answers API_PENDING (an
 * ingest waiting for its commit) the connection waits, and the committer's
 * completion wakes its loop once per batch to send the answers.
 */
#ifndef GANCHO_SERVER_HTTP_H
#define GANCHO_SERVER_HTTP_H

#include <stddef.h>

#include "api/api.h"
#include "util/gerr.h"

struct http_config {
	const char *listen; /* HOST:PORT, as checked by http_listen_parse */
	size_t max_body;
	int threads;
	/* Connection time limits in ms; 0 takes the default. */
	int idle_ms;  /* nothing going on: 60 s */
	int head_ms;  /* from a request's first byte (an empty line counts) to its head: 30 s */
	int write_ms; /* to get an answer, once queued, to the client: 60 s */
};

/* http_listen_parse: check a --listen value, HOST:PORT with a port of 1 to
 * 65535 in digits and an IPv6 host in brackets ([::1]:8080); copy the host
 * (brackets removed) and the port out. Returns 0 or GERR_INVALID with a
 * message for a person. */
int http_listen_parse(const char *addr, char *host, size_t hostsz, char *port, size_t portsz,
                      struct gerr *err);

struct http_server;

int http_start(const struct http_config *cfg, struct api *api, struct http_server **out,
               struct gerr *err);
/* http_quiesce: stop accepting connections; requests on open ones get 503. */
void http_quiesce(struct http_server *s);
/* http_pending: ingests still waiting for their commit. */
int http_pending(struct http_server *s);
void http_stop(struct http_server *s);

#endif
