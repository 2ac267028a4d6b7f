/*
 * http: see http.h.
 *
 * Each loop thread owns its connections: one edge-triggered epoll set, the
 * shared listening socket (EPOLLEXCLUSIVE: one loop wakes per connection) and
 * an eventfd through which the committer hands back finished ingests.
 *
 * A connection runs one request at a time. While an ingest waits for its
 * commit the connection parses nothing further (at most PIPELINE_MAX later
 * bytes wait unread), so pipelined answers keep their order. The committer
 * puts completed requests on their loop's list and only the first of a batch
 * writes the eventfd: one wakeup answers a whole group commit, where a
 * suspend/resume per request used to cost three system calls.
 *
 * Closing is deferred: a closed connection is freed after the epoll batch
 * that might still name it, and one whose ingest is in the committer's hands
 * is freed only when that ingest completes.
 *
 * Time limits (sweep, once a second) are counted from fixed starts, never
 * from the last progress, so a trickling client cannot stretch them: a
 * request head from its first byte (empty lines before it included), a
 * whole request from the same point, an answer from when it was queued.
 * Only the idle limit counts from the last byte either way.
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/http_parse.h"
#include "util/clock.h"
#include "util/log.h"

enum {
	READ_MIN = 4096,      /* free space offered to each recv */
	PIPELINE_MAX = 65536, /* unparsed bytes held while a request is pending */
	IDLE_MS = 60000,      /* a connection with nothing going on */
	HEAD_MS = 30000,      /* to finish sending a request head, empty lines before it included */
	REQUEST_MS = 120000,  /* to finish sending a whole request, body included */
	WRITE_MS = 60000,     /* to take an answer once it is queued: a slow reader ends there */
	BLANKS_MAX = 8,       /* empty lines tolerated before a request line */
	OUT_MAX = 65536,      /* unsent answers past which nothing more is parsed */
	BUF_KEEP = 65536,     /* larger idle buffers are given back */
	LINGER_MS = 2000,     /* reading what a refused client still sends */
	LINGER_MAX_MS = 10000, /* and at most this long, however it trickles */
	MAX_CONNS = 10000,
	MAX_EVENTS = 256,
	BODY_KEEP = 262144 /* a larger body buffer is freed after its request */
};

enum conn_state {
	CS_HEAD,    /* reading a request head */
	CS_BODY,    /* reading a Content-Length body */
	CS_CHUNKED, /* reading a chunked body */
	CS_PENDING, /* the API has the request */
	CS_LAST     /* answered for the last time: flush, then close */
};

struct loop;

struct conn {
	struct loop *lp;
	struct conn *prev, *next; /* the loop's open connections */
	struct conn *next_list;   /* on the completed or the dead list */
	int fd;
	enum conn_state state;
	bool eof;    /* the peer sends nothing more */
	bool closed; /* fd closed; waiting to be freed */
	bool shut;   /* our side shut down, lingering */
	int64_t shut_ms;
	int64_t last_ms;
	int64_t head_ms;  /* when the current request's first byte came */
	int64_t write_ms; /* when unsent answer bytes were first queued; 0: none */
	size_t head_scan; /* bytes of the head already searched for its end */
	int blanks;       /* empty lines before this request */
	struct buf in;    /* received; parsed up to inpos */
	size_t inpos;
	struct buf out; /* to send; sent up to outpos */
	size_t outpos;
	struct buf headbuf; /* the current request head, cut up by the parser */
	struct http_head head;
	struct http_chunked ck;
	struct buf body;
	int64_t want; /* CS_BODY: bytes still to come */
	struct api_req req;
	struct sockaddr_storage peer;
	size_t max_body; /* this request's body limit (api_max_body) */
};

struct loop {
	struct http_server *srv;
	pthread_t thread;
	bool started;
	int ep;
	int wake;
	pthread_mutex_t mu;
	struct conn *done; /* completed ingests, under mu */
	struct conn *conns;
	struct conn *dead;
	int64_t swept_ms;
	bool listening;
	time_t date_sec;
	char date[40];
};

struct http_server {
	struct api *api;
	size_t max_body;
	int64_t idle_ms, head_ms, request_ms, write_ms;
	int lfd;
	atomic_int spare_fd; /* given up to accept-and-close when out of descriptors */
	int nloops;
	struct loop *loops;
	atomic_int pending;
	atomic_int nconns;
	atomic_bool draining;
	atomic_bool stopping;
};

static void conn_pump(struct conn *c);
static void conn_process(struct conn *c);

/* ---- answers --------------------------------------------------------------------- */

static void put_uint(struct buf *b, size_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(b, tmp + i, sizeof(tmp) - (size_t)i);
}

static const char *loop_date(struct loop *lp)
{
	time_t now = time(NULL);
	if (now != lp->date_sec) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(lp->date, sizeof(lp->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		lp->date_sec = now;
	}
	return lp->date;
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	struct loop *lp = c->lp;
	c->closed = true;
	epoll_ctl(lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		lp->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	atomic_fetch_sub(&lp->srv->nconns, 1);
	if (c->state == CS_PENDING)
		return; /* the committer still holds c->req: freed on completion */
	c->next_list = lp->dead;
	lp->dead = c;
}

static void conn_free(struct conn *c)
{
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->headbuf);
	buf_free(&c->body);
	buf_free(&c->req.out);
	free(c);
}

static void conn_flush(struct conn *c)
{
	/* The write deadline runs from the first unsent byte, not from the last
	 * progress, so a client that reads a byte now and then is still bounded. */
	if (!c->write_ms && c->outpos < c->out.len)
		c->write_ms = clock_mono_ms();
	while (c->outpos < c->out.len) {
		ssize_t n =
		    send(c->fd, c->out.data + c->outpos, c->out.len - c->outpos, MSG_NOSIGNAL);
		if (n > 0) {
			c->outpos += (size_t)n;
			c->last_ms = clock_mono_ms();
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return; /* EPOLLOUT brings us back */
		} else {
			conn_close(c);
			return;
		}
	}
	c->out.len = 0;
	c->outpos = 0;
	c->write_ms = 0; /* all taken: the next answer gets its own time */
	if (c->out.cap > BUF_KEEP)
		buf_free(&c->out);
	if (c->state == CS_LAST && !c->shut) {
		/* Half-close and keep reading a little, so a client still sending a
		 * refused body gets our answer instead of a reset. */
		shutdown(c->fd, SHUT_WR);
		c->shut = true;
		c->last_ms = c->shut_ms = clock_mono_ms();
		if (c->eof)
			conn_close(c);
	}
}

/* conn_answer: queue the answer in c->req and send what the socket takes. */
static void conn_answer(struct conn *c)
{
	struct buf *o = &c->out;
	int status = c->req.status ? c->req.status : 500;
	size_t len = c->req.out.len;
	if ((c->eof && c->inpos == c->in.len) || !c->head.keep_alive ||
	    atomic_load(&c->lp->srv->stopping))
		c->state = CS_LAST;
	buf_puts(o, "HTTP/1.1 ");
	put_uint(o, (size_t)status);
	buf_putc(o, ' ');
	buf_puts(o, http_status_text(status));
	buf_puts(o, "\r\nDate: ");
	buf_puts(o, loop_date(c->lp));
	if (status == 405 && c->req.allow[0]) {
		buf_puts(o, "\r\nAllow: ");
		buf_puts(o, c->req.allow);
	}
	c->req.allow[0] = '\0'; /* for this answer only */
	if (status == 204 || status < 200) {
		len = 0; /* no body, and no Content-Length either (RFC 9110 8.6) */
	} else {
		if (len)
			buf_puts(o, "\r\nContent-Type: application/json");
		buf_puts(o, "\r\nContent-Length: ");
		put_uint(o, len);
	}
	if (c->state == CS_LAST)
		buf_puts(o, "\r\nConnection: close");
	else if (c->head.minor == 0)
		buf_puts(o, "\r\nConnection: keep-alive");
	buf_puts(o, "\r\n\r\n");
	if (len && strcmp(c->head.method, "HEAD") != 0)
		buf_append(o, c->req.out.data, len);
	if (o->oom) {
		conn_close(c);
		return;
	}
	conn_flush(c);
}

/* conn_refuse: answer an error of the transport itself, then close. */
static void conn_refuse(struct conn *c, int status, const char *code, const char *msg)
{
	struct gerr e;
	gerr_set(&e, -1, status, code, "%s", msg);
	buf_reset(&c->req.out);
	api_error(&c->req, &e);
	c->head.keep_alive = false;
	c->state = CS_LAST;
	conn_answer(c);
}

/* refuse_head: a request head the parser refused with status. */
static void refuse_head(struct conn *c, int status)
{
	c->head.method[0] = '\0'; /* not a HEAD request: the answer has its body */
	switch (status) {
	case 505:
		conn_refuse(c, 505, "not_supported", "only HTTP/1.0 and HTTP/1.1 are spoken here");
		break;
	case 501:
		conn_refuse(c, 501, "not_supported",
		            "only the chunked transfer coding is supported");
		break;
	case 417:
		conn_refuse(c, 417, "expectation_failed", "only Expect: 100-continue is supported");
		break;
	case 431:
		conn_refuse(c, 431, "headers_too_large",
		            "the request head is over 16 KB or 64 fields");
		break;
	default: conn_refuse(c, status, "bad_request", "malformed request"); break;
	}
}

/* refuse_too_large: a body over max_body, refused before it is read whole. */
static void refuse_too_large(struct conn *c)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "the body is over the %zu byte limit", c->max_body);
	struct api_req head = {.method = c->head.method,
	                       .path = c->head.path,
	                       .headers = (const struct api_header *)c->head.headers,
	                       .nheaders = c->head.nheaders,
	                       .peer = (const struct sockaddr *)&c->peer};
	api_refused(c->lp->srv->api, &head, 413, "payload_too_large", msg);
	conn_refuse(c, 413, "payload_too_large", msg);
}

/* ---- requests -------------------------------------------------------------------- */

static const char *lookup_header(void *conn, const char *name)
{
	return http_head_header(&((struct conn *)conn)->head, name);
}

static const char *lookup_query(void *conn, const char *name)
{
	return http_head_arg(&((struct conn *)conn)->head, name);
}

/* conn_complete: on the committer's thread. */
static void conn_complete(struct api_req *req)
{
	struct conn *c = (struct conn *)((char *)req - offsetof(struct conn, req));
	struct loop *lp = c->lp;
	/* The wake-up is written under the lock: once the loop has answered this
	 * request, http_stop may free the loop, and it takes this lock first. */
	pthread_mutex_lock(&lp->mu);
	bool first = lp->done == NULL;
	c->next_list = lp->done;
	lp->done = c;
	if (first) {
		uint64_t one = 1;
		ssize_t w = write(lp->wake, &one, sizeof(one));
		(void)w; /* a full counter still wakes the loop */
	}
	pthread_mutex_unlock(&lp->mu);
}

static void conn_run(struct conn *c)
{
	struct http_server *s = c->lp->srv;
	buf_reset(&c->req.out);
	c->req.status = 0;
	if (c->body.oom) {
		conn_refuse(c, 503, "unavailable", "out of memory");
		return;
	}
	/* Counted before draining is checked, so http_quiesce's wait for pending
	 * work cannot miss a request that is about to be handed over. */
	atomic_fetch_add(&s->pending, 1);
	if (atomic_load(&s->draining)) {
		atomic_fetch_sub(&s->pending, 1);
		conn_refuse(c, 503, "unavailable", "shutting down");
		return;
	}
	c->req.method = c->head.method;
	c->req.path = c->head.path;
	c->req.body = c->body.data ? c->body.data : "";
	c->req.body_len = c->body.len;
	c->req.header = lookup_header;
	c->req.query = lookup_query;
	c->req.conn = c;
	_Static_assert(sizeof(struct api_header) == sizeof(struct http_kv),
	               "api_header and http_kv share a layout");
	c->req.headers = (const struct api_header *)c->head.headers;
	c->req.nheaders = c->head.nheaders;
	c->req.peer = (const struct sockaddr *)&c->peer;
	c->req.complete = conn_complete;
	c->state = CS_PENDING;
	if (api_handle(s->api, &c->req) == API_DONE) {
		atomic_fetch_sub(&s->pending, 1);
		c->state = CS_HEAD;
		conn_answer(c);
	}
}

/* conn_end_request: the answer is queued; get ready for the next head. */
static void conn_end_request(struct conn *c)
{
	if (c->body.cap > BODY_KEEP)
		buf_free(&c->body);
	if (c->req.out.cap > BUF_KEEP)
		buf_free(&c->req.out);
	c->head_ms = 0;
}

/* conn_start_body: the head is parsed; decide how the body comes. */
static void conn_start_body(struct conn *c)
{
	struct http_server *s = c->lp->srv;
	buf_reset(&c->body);
	c->max_body = api_max_body(s->api, c->head.path, s->max_body);
	if (c->head.content_length > 0 && (uint64_t)c->head.content_length > c->max_body) {
		refuse_too_large(c); /* before reading a byte of it */
		return;
	}
	if (c->head.chunked) {
		memset(&c->ck, 0, sizeof(c->ck));
		c->state = CS_CHUNKED;
	} else if (c->head.content_length > 0) {
		/* one allocation for a usual body; a large one grows as it arrives */
		buf_reserve(&c->body, c->head.content_length < 65536
		                          ? (size_t)c->head.content_length
		                          : 65536);
		c->want = c->head.content_length;
		c->state = CS_BODY;
	} else {
		conn_run(c);
		return;
	}
	if (c->head.expect_continue && c->inpos == c->in.len && !atomic_load(&s->draining)) {
		buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		conn_flush(c);
	}
}

static void conn_process(struct conn *c)
{
	/* A client that sends without reading its answers is not read further
	 * until they drain (EPOLLOUT brings us back). */
	while (!c->closed && c->out.len - c->outpos <= OUT_MAX) {
		char *p = c->in.data + c->inpos;
		size_t avail = c->in.len - c->inpos;
		if (c->state == CS_HEAD) {
			if (!avail)
				break;
			/* The head clock starts at the first byte, empty lines included,
			 * so a client cannot hold a connection with a CRLF now and then. */
			if (!c->head_ms) {
				c->head_ms = clock_mono_ms();
				c->head_scan = 0;
				c->blanks = 0;
			}
			/* a few empty lines before a request line are skipped (RFC 9112 2.2) */
			while (!c->head_scan && avail >= 2 && p[0] == '\r' && p[1] == '\n') {
				c->inpos += 2;
				p += 2;
				avail -= 2;
				if (++c->blanks > BLANKS_MAX)
					break;
			}
			if (c->blanks > BLANKS_MAX) {
				c->head.method[0] = '\0';
				conn_refuse(c, 400, "bad_request",
				            "too many empty lines before the request line");
				break;
			}
			if (!avail || (!c->head_scan && avail == 1 && p[0] == '\r'))
				break; /* the rest of an empty line, or of a request, comes later */
			/* resume the search for the blank line where the last read left it */
			size_t from = c->head_scan > 3 ? c->head_scan - 3 : 0;
			size_t hl = http_head_end(p + from, avail - from);
			hl = hl ? hl + from : 0;
			c->head_scan = avail;
			if (!hl || hl > HTTP_MAX_HEAD) {
				c->head.method[0] =
				    '\0'; /* the last request's: any answer has a body */
				if (avail > HTTP_MAX_HEAD || hl > HTTP_MAX_HEAD)
					refuse_head(c, 431);
				else if (memmem(p, avail, "\n\n", 2) ||
				         memmem(p, avail, "\n\r\n", 3) ||
				         memmem(p, avail, "\r\n\n", 3))
					conn_refuse(c, 400, "bad_request",
					            "header lines must end in CRLF");
				break;
			}
			buf_reset(&c->headbuf);
			buf_append(&c->headbuf, p, hl);
			c->inpos += hl;
			if (c->headbuf.oom) {
				conn_refuse(c, 503, "unavailable", "out of memory");
				break;
			}
			int st = http_parse_head(c->headbuf.data, hl, &c->head);
			if (st) {
				refuse_head(c, st);
				break;
			}
			conn_start_body(c);
		} else if (c->state == CS_BODY) {
			size_t take = avail < (uint64_t)c->want ? avail : (size_t)c->want;
			buf_append(&c->body, p, take);
			c->inpos += take;
			c->want -= (int64_t)take;
			if (c->want)
				break;
			conn_run(c);
		} else if (c->state == CS_CHUNKED) {
			if (!avail)
				break;
			long n = http_chunked_feed(&c->ck, p, avail, &c->body, c->max_body);
			if (n == -413) {
				refuse_too_large(c);
				break;
			}
			if (n < 0) {
				conn_refuse(c, 400, "bad_request", "malformed chunked body");
				break;
			}
			c->inpos += (size_t)n;
			if (!http_chunked_done(&c->ck))
				break;
			conn_run(c);
		} else {
			if (c->state == CS_LAST)
				c->inpos = c->in.len; /* nothing more is read as a request */
			break;
		}
		if (c->state == CS_HEAD)
			conn_end_request(c);
	}
	if (c->closed)
		return;
	if (c->inpos == c->in.len) {
		c->in.len = 0;
		c->inpos = 0;
		if (c->in.cap > BUF_KEEP)
			buf_free(&c->in);
	} else if (c->inpos) {
		memmove(c->in.data, c->in.data + c->inpos, c->in.len - c->inpos);
		c->in.len -= c->inpos;
		c->inpos = 0;
	}
}

/* conn_pump: read what has come and act on it. */
static void conn_pump(struct conn *c)
{
	while (!c->closed && !c->eof) {
		if (c->state == CS_PENDING && c->in.len - c->inpos >= PIPELINE_MAX)
			break; /* read on once the pending answer is out */
		if (c->out.len - c->outpos > OUT_MAX)
			break; /* read on once the client has read its answers */
		if (!buf_reserve(&c->in, READ_MIN)) {
			conn_close(c);
			return;
		}
		ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
		if (n > 0) {
			c->in.len += (size_t)n;
			c->in.data[c->in.len] = '\0';
			c->last_ms = clock_mono_ms();
			conn_process(c);
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else {
			conn_close(c);
			return;
		}
	}
	if (c->closed || !c->eof || c->state == CS_PENDING)
		return;
	/* The peer is done sending: answer what is queued, then close. */
	if (c->outpos < c->out.len && c->state != CS_LAST) {
		c->state = CS_LAST;
		return;
	}
	if (c->outpos >= c->out.len)
		conn_close(c);
}

/* ---- the loop -------------------------------------------------------------------- */

static void on_accept(struct loop *lp)
{
	struct http_server *s = lp->srv;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage peer;
		socklen_t peerlen = sizeof(peer);
		int fd = accept4(s->lfd, (struct sockaddr *)&peer, &peerlen,
		                 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			int spare;
			if ((errno == EMFILE || errno == ENFILE) &&
			    (spare = atomic_exchange(&s->spare_fd, -1)) >= 0) {
				/* Out of descriptors: take the connection with the spare one and
				 * close it, rather than spin on a listener that stays ready. */
				close(spare);
				fd = accept(s->lfd, NULL, NULL);
				if (fd >= 0)
					close(fd);
				atomic_store(&s->spare_fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
				log_warn("http_fds",
				         "note=\"out of file descriptors; connection refused\"");
			}
			return;
		}
		if (atomic_fetch_add(&s->nconns, 1) >= MAX_CONNS) {
			atomic_fetch_sub(&s->nconns, 1);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			atomic_fetch_sub(&s->nconns, 1);
			close(fd);
			continue;
		}
		c->lp = lp;
		c->fd = fd;
		c->peer = peer;
		c->last_ms = clock_mono_ms();
		c->next = lp->conns;
		if (lp->conns)
			lp->conns->prev = c;
		lp->conns = c;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		                         .data.ptr = c};
		if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev))
			conn_close(c);
	}
}

static void on_wake(struct loop *lp)
{
	struct http_server *s = lp->srv;
	uint64_t v;
	ssize_t r = read(lp->wake, &v, sizeof(v));
	(void)r;
	if (lp->listening && atomic_load(&s->draining)) {
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, s->lfd, NULL);
		lp->listening = false;
	}
	pthread_mutex_lock(&lp->mu);
	struct conn *list = lp->done;
	lp->done = NULL;
	pthread_mutex_unlock(&lp->mu);
	while (list) {
		struct conn *c = list;
		list = c->next_list;
		c->state = CS_HEAD;
		if (c->closed) {
			c->next_list = lp->dead;
			lp->dead = c;
		} else {
			conn_answer(c);
			conn_end_request(c);
			if (!c->closed && c->state == CS_HEAD) {
				conn_process(c);
				conn_pump(c);
			}
		}
		atomic_fetch_sub(&s->pending, 1);
	}
}

static void sweep(struct loop *lp, int64_t now)
{
	struct conn *next;
	struct http_server *s = lp->srv;
	for (struct conn *c = lp->conns; c; c = next) {
		next = c->next;
		/* An answer the client will not take ends the connection, whatever
		 * else it waits for (a pending ingest is completed all the same). */
		if (c->write_ms && c->outpos < c->out.len && now - c->write_ms > s->write_ms) {
			conn_close(c);
			continue;
		}
		if (c->state == CS_PENDING)
			continue;
		int64_t idle = now - c->last_ms;
		int64_t req_age = c->head_ms ? now - c->head_ms : 0;
		if ((c->state == CS_LAST && c->shut &&
		     (idle > LINGER_MS || now - c->shut_ms > LINGER_MAX_MS)) ||
		    idle > s->idle_ms ||
		    req_age > (c->state == CS_HEAD ? s->head_ms : s->request_ms))
			conn_close(c);
	}
}

static void *loop_main(void *arg)
{
	struct loop *lp = arg;
	struct http_server *s = lp->srv;
	struct epoll_event evs[MAX_EVENTS];
	while (!atomic_load(&s->stopping)) {
		int n = epoll_wait(lp->ep, evs, MAX_EVENTS, 1000);
		for (int i = 0; i < n; i++) {
			void *p = evs[i].data.ptr;
			if (p == &lp->wake) {
				on_wake(lp);
			} else if (p == s) {
				on_accept(lp);
			} else {
				struct conn *c = p;
				if (c->closed)
					continue;
				if ((evs[i].events & EPOLLOUT) && c->outpos < c->out.len) {
					bool held = c->out.len - c->outpos > OUT_MAX;
					conn_flush(c);
					if (!c->closed && c->eof && c->outpos >= c->out.len)
						conn_close(c);
					if (!c->closed && held &&
					    c->out.len - c->outpos <= OUT_MAX &&
					    c->state != CS_PENDING) {
						conn_process(
						    c); /* what waited while answers piled up */
						conn_pump(c);
					}
				}
				if (!c->closed &&
				    (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
					conn_pump(c);
			}
		}
		while (lp->dead) {
			struct conn *c = lp->dead;
			lp->dead = c->next_list;
			conn_free(c);
		}
		int64_t now = clock_mono_ms();
		if (now - lp->swept_ms >= 1000) {
			sweep(lp, now);
			lp->swept_ms = now;
		}
	}
	return NULL;
}

/* ---- setup ----------------------------------------------------------------------- */

int http_listen_parse(const char *addr, char *host, size_t hostsz, char *port, size_t portsz,
                      struct gerr *err)
{
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	if (!colon || colon == addr || !colon[1])
		return gerr_set(err, GERR_INVALID, 400, "usage",
		                "--listen: expected HOST:PORT, got \"%s\"", addr ? addr : "");
	/* The port: digits only, 1 to 65535 (getaddrinfo would take "0", and
	 * wrap "99999" to a port nobody asked for). */
	const char *p = colon + 1;
	size_t plen = strlen(p);
	unsigned v = 0;
	for (size_t k = 0; k < plen; k++) {
		if (p[k] < '0' || p[k] > '9' || plen > 5)
			return gerr_set(err, GERR_INVALID, 400, "usage",
			                "--listen: the port must be a number from 1 to 65535, got "
			                "\"%s\"",
			                p);
		v = v * 10 + (unsigned)(p[k] - '0');
	}
	if (v < 1 || v > 65535)
		return gerr_set(err, GERR_INVALID, 400, "usage",
		                "--listen: the port must be a number from 1 to 65535, got \"%s\"",
		                p);
	if (plen >= portsz)
		return gerr_set(err, GERR_INVALID, 400, "usage", "--listen: port too long");
	memcpy(port, p, plen + 1);

	const char *h = addr;
	size_t hl = (size_t)(colon - addr);
	if (h[0] == '[') {
		/* [IPv6]: the brackets hold exactly an IPv6 address */
		struct in6_addr a6;
		if (hl < 3 || h[hl - 1] != ']' || hl - 2 >= hostsz)
			return gerr_set(err, GERR_INVALID, 400, "usage",
			                "--listen: expected [IPv6]:PORT, got \"%s\"", addr);
		memcpy(host, h + 1, hl - 2);
		host[hl - 2] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return gerr_set(err, GERR_INVALID, 400, "usage",
			                "--listen: \"%s\" is not an IPv6 address", host);
		return 0;
	}
	if (hl >= hostsz)
		return gerr_set(err, GERR_INVALID, 400, "usage", "--listen: host too long");
	for (size_t k = 0; k < hl; k++) {
		char c = h[k];
		if (c == ':')
			return gerr_set(
			    err, GERR_INVALID, 400, "usage",
			    "--listen: an IPv6 address goes in brackets, as [::1]:8080");
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return gerr_set(err, GERR_INVALID, 400, "usage",
			                "--listen: invalid character in the host of \"%s\"", addr);
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

static int listen_on(const char *addr, struct gerr *err)
{
	char host[256], port[8];
	int rc = http_listen_parse(addr, host, sizeof(host), port, sizeof(port), err);
	if (rc)
		return rc;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
	                         .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res)
		return gerr_set(err, GERR_INVALID, 400, "usage", "--listen %s: %s", addr,
		                gai_strerror(rc));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 1024)) {
		if (fd >= 0)
			close(fd);
		freeaddrinfo(res);
		return gerr_set(err, GERR_IO, 500, "listen",
		                "cannot listen on %s (in use, or not an address of this machine)",
		                addr);
	}
	freeaddrinfo(res);
	return fd;
}

static void wake_all(struct http_server *s)
{
	uint64_t one = 1;
	for (int i = 0; i < s->nloops; i++) {
		ssize_t w = write(s->loops[i].wake, &one, sizeof(one));
		(void)w;
	}
}

static void server_free(struct http_server *s)
{
	for (int i = 0; i < s->nloops; i++) {
		struct loop *lp = &s->loops[i];
		while (lp->conns)
			conn_close(lp->conns);
		while (lp->dead) {
			struct conn *c = lp->dead;
			lp->dead = c->next_list;
			conn_free(c);
		}
		if (lp->ep >= 0)
			close(lp->ep);
		if (lp->wake >= 0)
			close(lp->wake);
		pthread_mutex_lock(&lp->mu); /* a committer still in conn_complete finishes first */
		pthread_mutex_unlock(&lp->mu);
		pthread_mutex_destroy(&lp->mu);
	}
	if (s->lfd >= 0)
		close(s->lfd);
	if (atomic_load(&s->spare_fd) >= 0)
		close(atomic_load(&s->spare_fd));
	free(s->loops);
	free(s);
}

int http_start(const struct http_config *cfg, struct api *api, struct http_server **out,
               struct gerr *err)
{
	int lfd = listen_on(cfg->listen, err);
	if (lfd < 0)
		return lfd;
	struct http_server *s = calloc(1, sizeof(*s));
	int nloops = cfg->threads > 0 ? cfg->threads : 1;
	if (s)
		s->loops = calloc((size_t)nloops, sizeof(*s->loops));
	if (!s || !s->loops) {
		close(lfd);
		free(s);
		return gerr_set(err, GERR_NOMEM, 500, "nomem", "out of memory");
	}
	s->api = api;
	s->max_body = cfg->max_body;
	s->idle_ms = cfg->idle_ms > 0 ? cfg->idle_ms : IDLE_MS;
	s->head_ms = cfg->head_ms > 0 ? cfg->head_ms : HEAD_MS;
	s->request_ms = REQUEST_MS > s->head_ms ? REQUEST_MS : s->head_ms;
	s->write_ms = cfg->write_ms > 0 ? cfg->write_ms : WRITE_MS;
	s->lfd = lfd;
	atomic_init(&s->spare_fd, open("/dev/null", O_RDONLY | O_CLOEXEC));
	s->nloops = nloops;
	for (int i = 0; i < nloops; i++) {
		struct loop *lp = &s->loops[i];
		lp->srv = s;
		pthread_mutex_init(&lp->mu, NULL);
		lp->ep = epoll_create1(EPOLL_CLOEXEC);
		lp->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = s};
		struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &lp->wake};
		if (lp->ep < 0 || lp->wake < 0 || epoll_ctl(lp->ep, EPOLL_CTL_ADD, lfd, &lev) ||
		    epoll_ctl(lp->ep, EPOLL_CTL_ADD, lp->wake, &wev)) {
			gerr_set(err, GERR_IO, 500, "listen", "cannot set up the event loop: %s",
			         strerror(errno));
			goto fail;
		}
		lp->listening = true;
	}
	for (int i = 0; i < nloops; i++) {
		struct loop *lp = &s->loops[i];
		if (pthread_create(&lp->thread, NULL, loop_main, lp)) {
			gerr_set(err, GERR_IO, 500, "thread", "cannot start an HTTP thread");
			goto fail;
		}
		pthread_setname_np(lp->thread, "http");
		lp->started = true;
	}
	*out = s;
	return 0;
fail:
	atomic_store(&s->stopping, true);
	wake_all(s);
	for (int i = 0; i < nloops; i++)
		if (s->loops[i].started)
			pthread_join(s->loops[i].thread, NULL);
	server_free(s);
	return GERR_IO;
}

void http_quiesce(struct http_server *s)
{
	atomic_store(&s->draining, true);
	wake_all(s);
	/* New connections are refused from here on; open ones get 503s. */
	shutdown(s->lfd, SHUT_RD);
}

int http_pending(struct http_server *s)
{
	return atomic_load(&s->pending);
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	atomic_store(&s->stopping, true);
	wake_all(s);
	for (int i = 0; i < s->nloops; i++)
		if (s->loops[i].started)
			pthread_join(s->loops[i].thread, NULL);
	int pending = atomic_load(&s->pending);
	if (pending > 0) {
		/* The committer may still complete these: leave the server's memory to
		 * the process exit rather than have it written after free. */
		log_warn("http_stop", "pending=%d note=\"ingests still uncommitted at exit\"",
		         pending);
		return;
	}
	server_free(s);
}
