/*
 * http: see http.h.
 *
 * libmicrohttpd calls the access handler several times per request: once
 * with the headers, once per chunk of body, and once more with no data when
 * the body is complete. The connection's context (struct conn) gathers the
 * body, runs the API on the last call, and holds the answer. For a pending
 * ingest the handler suspends the connection; the committer's callback
 * (conn_complete) resumes it, and libmicrohttpd calls the handler again, which
 * now finds the answer ready and queues it.
 *
 * Suspend and complete can race (a commit may finish before the handler has
 * suspended), so a small state machine decides who resumes: whoever comes
 * second.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

enum { C_RUNNING, C_SUSPENDED, C_DONE };

struct http_server {
	struct MHD_Daemon *d;
	struct api *api;
	size_t max_body;
	atomic_int pending;
	atomic_bool draining;
};

struct conn {
	struct http_server *srv;
	struct MHD_Connection *mc;
	struct api_req req;
	struct buf body;
	char method[16];
	char *path;
	bool too_big;
	bool handled;
	atomic_int state;
};

static const char *lookup_header(void *c, const char *name)
{
	return MHD_lookup_connection_value(((struct conn *)c)->mc, MHD_HEADER_KIND, name);
}

static const char *lookup_query(void *c, const char *name)
{
	return MHD_lookup_connection_value(((struct conn *)c)->mc, MHD_GET_ARGUMENT_KIND, name);
}

static void conn_complete(struct api_req *req)
{
	struct conn *c = (struct conn *)((char *)req - offsetof(struct conn, req));
	atomic_fetch_sub(&c->srv->pending, 1);
	if (atomic_exchange(&c->state, C_DONE) == C_SUSPENDED)
		MHD_resume_connection(c->mc);
}

static enum MHD_Result send_answer(struct conn *c)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(c->req.out.len, c->req.out.data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	if (c->req.out.len)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(c->mc, (unsigned)c->req.status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result fail_now(struct conn *c, int status, const char *code, const char *msg)
{
	struct gerr e;
	gerr_set(&e, -1, status, code, "%s", msg);
	api_error(&c->req, &e);
	return send_answer(c);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **ctx)
{
	struct http_server *s = cls;
	struct conn *c = *ctx;
	(void)version;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return MHD_NO;
		c->srv = s;
		c->mc = mc;
		snprintf(c->method, sizeof(c->method), "%s", method);
		c->path = strdup(url);
		buf_init(&c->body);
		buf_init(&c->req.out);
		atomic_init(&c->state, C_RUNNING);
		*ctx = c;
		const char *cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
		if (len > s->max_body) {
			/* Answer before reading a byte of an oversized body. */
			c->handled = true;
			char msg[96];
			snprintf(msg, sizeof(msg), "the body is over the %zu byte limit",
			         s->max_body);
			return fail_now(c, 413, "payload_too_large", msg);
		}
		/* One allocation for the whole body instead of doubling as it comes. */
		if (len)
			buf_reserve(&c->body, (size_t)len);
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!c->too_big) {
			if (c->body.len + *upload_data_size > s->max_body) {
				c->too_big = true;
				buf_free(&c->body);
			} else {
				buf_append(&c->body, upload_data, *upload_data_size);
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (c->handled) {
		/* resumed after a pending ingest: the answer is ready */
		if (atomic_load(&c->state) == C_DONE && c->req.status)
			return send_answer(c);
		return MHD_YES;
	}
	c->handled = true;
	if (c->too_big) {
		char msg[96];
		snprintf(msg, sizeof(msg), "the body is over the %zu byte limit", s->max_body);
		return fail_now(c, 413, "payload_too_large", msg);
	}
	if (c->body.oom)
		return fail_now(c, 503, "unavailable", "out of memory");
	if (atomic_load(&s->draining))
		return fail_now(c, 503, "unavailable", "shutting down");
	c->req.method = c->method;
	c->req.path = c->path ? c->path : "/";
	c->req.body = c->body.data ? c->body.data : "";
	c->req.body_len = c->body.len;
	c->req.header = lookup_header;
	c->req.query = lookup_query;
	c->req.conn = c;
	c->req.complete = conn_complete;
	atomic_fetch_add(&s->pending, 1);
	int r = api_handle(s->api, &c->req);
	if (r == API_DONE) {
		atomic_fetch_sub(&s->pending, 1);
		atomic_store(&c->state, C_DONE);
		return send_answer(c);
	}
	MHD_suspend_connection(mc);
	int expect = C_RUNNING;
	if (!atomic_compare_exchange_strong(&c->state, &expect, C_SUSPENDED))
		MHD_resume_connection(mc); /* the commit won the race */
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *mc, void **ctx,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn *c = *ctx;
	(void)cls;
	(void)mc;
	(void)toe;
	if (!c)
		return;
	buf_free(&c->body);
	buf_free(&c->req.out);
	free(c->path);
	free(c);
	*ctx = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '"'))
		msg[--n] = '\0';
	log_debug("http", "detail=\"%s\"", msg);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                        struct gerr *err)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen || !colon[1])
		return gerr_set(err, GERR_INVALID, 400, "usage",
		                "--listen: expected HOST:PORT, got %s", listen);
	size_t hl = (size_t)(colon - listen);
	if (hl >= sizeof(host))
		return gerr_set(err, GERR_INVALID, 400, "usage", "--listen: host too long");
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc || !res)
		return gerr_set(err, GERR_INVALID, 400, "usage", "--listen %s: %s", listen,
		                gai_strerror(rc));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

int http_start(const struct http_config *cfg, struct api *api, struct http_server **out,
               struct gerr *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int rc = parse_listen(cfg->listen, &ss, &sslen, err);
	if (rc)
		return rc;
	struct http_server *s = calloc(1, sizeof(*s));
	if (!s)
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	s->api = api;
	s->max_body = cfg->max_body;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads > 0 ? cfg->threads : 2),
	    MHD_OPTION_CONNECTION_LIMIT, 10000u, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s, MHD_OPTION_END);
	if (!s->d) {
		free(s);
		return gerr_set(err, GERR_IO, 500, "listen",
		                "cannot listen on %s (in use, or not an address of this machine)",
		                cfg->listen);
	}
	*out = s;
	return 0;
}

void http_quiesce(struct http_server *s)
{
	atomic_store(&s->draining, true);
	MHD_socket fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

int http_pending(struct http_server *s)
{
	return atomic_load(&s->pending);
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
