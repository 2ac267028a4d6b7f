/*
 * load: the benchmarks' load generator (bench/run).
 *
 * Posts N events to gancho's POST /api/v1/events over C keep-alive
 * connections, with raw non-blocking sockets and one epoll loop (the gateway
 * is the subject; the client must cost little). Each request is
 *
 *   POST /api/v1/events HTTP/1.1
 *   Authorization: Bearer TOKEN
 *   Content-Type: application/json
 *   Content-Length: L
 *
 *   {"event":"NAME","id":"<uuid>","data":<bytes of --data FILE>}
 *
 * The id of event i is a version-4-shaped UUID drawn from --prefix and i:
 * random-looking like the ids real senders use (Gupy's are UUIDs), so the
 * store pays for unordered keys as it would in production, yet reproducible,
 * so an event sent again keeps its id.
 *
 * With --gupy the requests go to a source's receiving URL (--url
 * http://HOST:PORT/in/<sourceId>) as Gupy sends them, with no bearer token
 * (--token is then optional and unused):
 *
 *   POST /in/<sourceId> HTTP/1.1
 *   Content-Type: application/json
 *   X-Signature: <hex HMAC-SHA256 of the exact body, with --hmac-secret>
 *
 *   {"id":"<uuid>","event":"application.moved","date":"<RFC 3339, Z>",
 *    "data":{"application":{"id":A},"n":K,"detail":<bytes of --data FILE>}}
 *
 * and every answer must be 200 (a receipt stored, or a duplicate of one).
 * The signature header is sent only with --hmac-secret (its name:
 * --hmac-header, default X-Signature). Without --entities, event i is
 * application i + 1 with n 0. With --entities E --per K, the E * K events are
 * K per application (n = 0 .. K-1, dated 2026-01-01T00:00:00.<n as ms>Z,
 * so n orders them), sent out of order:
 * the events of each block of --block B applications (default 64) are
 * shuffled together (Fisher-Yates, seeded by --prefix), so an application's
 * K events go out within one block's span, in a random order.
 *
 * Closed loop by default: each connection sends its next event as soon as
 * the previous one is answered. With --rate R it is open loop: event i is due
 * at start + i/R seconds and goes out on any idle connection; its latency
 * counts from that due time, so a stalled server cannot hide its stall
 * (coordinated omission).
 *
 * Every answer must be 202 (with --gupy: 200); others are counted (and the first few printed on
 * stderr). A connection that drops before answering is reopened and the same
 * event is sent again (the id makes that idempotent); after 5 tries the event
 * counts as an error.
 *
 * With --ids FILE, "<id> <CLOCK_REALTIME ns>\n" is written per event: the
 * moment it was sent (or, with --rate, its due time, if earlier).
 *
 * The last line on stdout is
 *   sent=N ok=N non202=N errors=N resent=N bytes=B elapsed=S rate=R start_ns=T end_ns=T
 *   p50_ms=X p90_ms=X p99_ms=X max_ms=X
 * (one line): bytes is the sum of the accepted request bodies, rate is 202s a
 * second, the percentiles are the client-side latency of the 202 answers
 * (with --gupy: of the 200s; non202 then counts answers other than 200).
 *
 * load --join SEND RECV reads the --ids file of load and that of bench_sink
 * and prints "matched=N missing=N p50_ms=X p99_ms=X max_ms=X" for the time
 * from send to receipt (the first receipt of an id).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "readfile.h"

#define RBUF       16384
#define MAX_TRIES  5
#define MAX_EVENTS 256
#define SHOW_BAD   3

enum { C_CLOSED, C_CONNECTING, C_SENDING, C_WAITING, C_IDLE };

struct conn {
	int fd;
	int state;
	long long ev; /* the event in flight, -1 when none */
	int tries;
	char *req; /* the request being sent */
	size_t reqlen, woff;
	size_t bodylen; /* of the request being sent */
	char rbuf[RBUF];
	size_t rlen;
	int64_t t0;         /* when the event was due/sent (CLOCK_REALTIME ns) */
	struct conn *inext; /* idle list */
	bool idle;          /* on the idle list */
};

/* An event to send again after its connection failed. */
struct resend {
	long long ev;
	int64_t t0;
	int tries;
};

static struct {
	struct sockaddr_in addr;
	char hostport[300];
	char path[512];
	const char *token;
	const char *event;
	const char *prefix;
	char *data;
	size_t datalen;
	long long n;
	int c;
	double rate;
	FILE *ids;
	bool gupy;           /* POST /in/<source>: Gupy-shaped bodies, 200 expected */
	const char *secret;  /* --hmac-secret */
	const char *signame; /* --hmac-header */
	long long entities;  /* --entities E (0: one application per event) */
	int per;             /* --per K events per application */
	int block;           /* --block B applications shuffled together */
	int *perm[2];        /* the shuffles of a whole block and of the last one */
	long long permlen[2];
	int expect; /* the status every answer must have */

	int epfd;
	struct conn *conns;
	struct conn *idle;
	long long next;       /* next event never sent yet */
	struct resend *retry; /* events to send again */
	long long nretry;
	long long done, ok, non202, errors, resent;
	long long bytes; /* request bodies of the 202 answers */
	int64_t *lat;    /* per answered 202, ns */
	long long nlat;
	int64_t start_ns;
	int shown;
} L;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: bench_load --url http://HOST:PORT/api/v1/events --token T [options]\n"
	    "       bench_load --gupy --url http://HOST:PORT/in/SOURCE_ID [options]\n"
	    "       bench_load --join SEND_IDS RECV_IDS\n"
	    "\n"
	    "  --url URL          where to POST (http only)\n"
	    "  --token T          company token (Authorization: Bearer T)\n"
	    "  -n, --events N     events to send (default 1000)\n"
	    "  -c, --conns C      concurrent keep-alive connections (default 64)\n"
	    "  --data FILE        the event's data (default tests/data/candidate-hired.data.json)\n"
	    "  --event NAME       event name (default candidate.hired)\n"
	    "  --prefix P         ids are UUIDs drawn from P and the event number\n"
	    "                     (default P: from pid and time)\n"
	    "  --rate R           open loop: R events a second\n"
	    "  --ids FILE         write \"<id> <send ns>\" per event\n"
	    "  --gupy             POST Gupy-shaped bodies to a source's /in/<id> URL;\n"
	    "                     200 expected, no bearer token\n"
	    "  --hmac-secret S    (--gupy) sign each body: hex HMAC-SHA256 in a header\n"
	    "  --hmac-header H    (--gupy) that header's name (default X-Signature)\n"
	    "  --entities E       (--gupy) E applications with --per events each,\n"
	    "                     shuffled within blocks (sets -n to E * K)\n"
	    "  --per K            (--gupy) events per application, 1-1000 (default 10)\n"
	    "  --block B          (--gupy) applications shuffled together (default 64)\n"
	    "  --join SEND RECV   latency from send to receipt, from two ids files\n");
}

/* ---------------------------------------------------------------- requests */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* event_id: the id of event ev (see the top of this file); 36 bytes. */
static int event_id(long long ev, char *out, size_t outsz)
{
	uint64_t seed = 1469598103934665603ULL; /* FNV-1a of the prefix */
	for (const char *p = L.prefix; *p; p++)
		seed = (seed ^ (unsigned char)*p) * 1099511628211ULL;
	uint64_t hi = splitmix64(seed ^ (uint64_t)ev), lo = splitmix64(hi ^ seed);
	return snprintf(out, outsz, "%08llx-%04llx-4%03llx-%04llx-%012llx",
	                (unsigned long long)(hi >> 32), (unsigned long long)((hi >> 16) & 0xffff),
	                (unsigned long long)(hi & 0xfff),
	                (unsigned long long)(0x8000 | ((lo >> 48) & 0x3fff)),
	                (unsigned long long)(lo & 0xffffffffffffULL));
}

/* A shuffle of 0 .. len-1, drawn from the prefix and len (Fisher-Yates). */
static int *make_perm(long long len)
{
	int *v = malloc((size_t)len * sizeof(*v));
	if (!v)
		return NULL;
	uint64_t x = (uint64_t)len;
	for (const char *p = L.prefix; *p; p++)
		x = (x ^ (unsigned char)*p) * 1099511628211ULL;
	for (long long i = 0; i < len; i++)
		v[i] = (int)i;
	for (long long i = len - 1; i > 0; i--) {
		x = splitmix64(x);
		long long j = (long long)(x % (uint64_t)(i + 1));
		int t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	return v;
}

/* gupy_event: the application (from 1) and the n of event ev (see the top). */
static void gupy_event(long long ev, long long *app, int *n)
{
	if (L.entities == 0) {
		*app = ev + 1;
		*n = 0;
		return;
	}
	long long bsz = (long long)L.block * L.per;
	long long b = ev / bsz, p = ev % bsz;
	int k = (b + 1) * L.block > L.entities ? 1 : 0; /* the last, partial block */
	long long q = L.perm[k][p];
	*app = b * L.block + q / L.per + 1;
	*n = (int)(q % L.per);
}

/* hmac_body: HMAC-SHA256(--hmac-secret, body) into mac; its length. The
 * key's two midstates are made once (RFC 2104), so that a request costs
 * its hashing, not OpenSSL's per-call lookups: the load generator shares
 * the machine with gancho, and what it spends is not gancho's. */
static unsigned int hmac_body(const char *body, size_t len, unsigned char *mac)
{
	static EVP_MD_CTX *inner, *outer, *scratch;
	unsigned char ih[EVP_MAX_MD_SIZE];
	unsigned int n = 0, m = 0;
	if (!inner) {
		unsigned char kb[64] = {0}, pad[64];
		size_t kl = strlen(L.secret);
		if (kl > sizeof(kb))
			EVP_Digest(L.secret, kl, kb, NULL, EVP_sha256(), NULL);
		else
			memcpy(kb, L.secret, kl);
		inner = EVP_MD_CTX_new();
		outer = EVP_MD_CTX_new();
		scratch = EVP_MD_CTX_new();
		if (!inner || !outer || !scratch) {
			fprintf(stderr, "bench_load: out of memory\n");
			exit(1);
		}
		for (int i = 0; i < 64; i++)
			pad[i] = kb[i] ^ 0x36;
		EVP_DigestInit_ex(inner, EVP_sha256(), NULL);
		EVP_DigestUpdate(inner, pad, sizeof(pad));
		for (int i = 0; i < 64; i++)
			pad[i] = kb[i] ^ 0x5c;
		EVP_DigestInit_ex(outer, EVP_sha256(), NULL);
		EVP_DigestUpdate(outer, pad, sizeof(pad));
	}
	if (!EVP_MD_CTX_copy_ex(scratch, inner) || !EVP_DigestUpdate(scratch, body, len) ||
	    !EVP_DigestFinal_ex(scratch, ih, &n) || !EVP_MD_CTX_copy_ex(scratch, outer) ||
	    !EVP_DigestUpdate(scratch, ih, n) || !EVP_DigestFinal_ex(scratch, mac, &m)) {
		fprintf(stderr, "bench_load: HMAC failed\n");
		exit(1);
	}
	return m;
}

/* Build the Gupy-shaped request for event ev into c->req (--gupy). */
static void build_gupy(struct conn *c, long long ev)
{
	static char *body;
	static size_t bodycap;
	char id[64];
	event_id(ev, id, sizeof(id));
	long long app;
	int n;
	gupy_event(ev, &app, &n);
	char pre[512];
	int plen = snprintf(pre, sizeof(pre),
	                    "{\"id\":\"%s\",\"event\":\"%s\",\"date\":"
	                    "\"2026-01-01T00:00:00.%03dZ\",\"data\":{\"application\":{\"id\":%lld},"
	                    "\"n\":%d,\"detail\":",
	                    id, L.event, n, app, n);
	size_t blen = (size_t)plen + L.datalen + 2;
	if (blen > bodycap) {
		char *nb = realloc(body, blen);
		if (!nb) {
			fprintf(stderr, "bench_load: out of memory\n");
			exit(1);
		}
		body = nb;
		bodycap = blen;
	}
	memcpy(body, pre, (size_t)plen);
	memcpy(body + plen, L.data, L.datalen);
	memcpy(body + plen + L.datalen, "}}", 2);

	char sig[200] = "";
	if (L.secret) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = hmac_body(body, blen, mac);
		static const char hex[] = "0123456789abcdef";
		int o = snprintf(sig, sizeof(sig), "%s: ", L.signame);
		for (unsigned int i = 0; i < maclen && (size_t)o + 4 < sizeof(sig); i++) {
			sig[o++] = hex[mac[i] >> 4];
			sig[o++] = hex[mac[i] & 15];
		}
		snprintf(sig + o, sizeof(sig) - (size_t)o, "\r\n");
	}
	char head[1024];
	int hlen = snprintf(head, sizeof(head),
	                    "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	                    "%sContent-Length: %zu\r\n\r\n",
	                    L.path, L.hostport, sig, blen);
	c->reqlen = (size_t)hlen + blen;
	c->bodylen = blen;
	c->req = realloc(c->req, c->reqlen);
	memcpy(c->req, head, (size_t)hlen);
	memcpy(c->req + hlen, body, blen);
	c->woff = 0;
	c->rlen = 0;
	c->ev = ev;
}

/* Build the request for event ev into c->req. */
static void build_request(struct conn *c, long long ev)
{
	if (L.gupy) {
		build_gupy(c, ev);
		return;
	}
	char id[64];
	int idlen = event_id(ev, id, sizeof(id));
	size_t blen = strlen("{\"event\":\"\",\"id\":\"\",\"data\":}") + strlen(L.event) +
	              (size_t)idlen + L.datalen;
	char head[1024];
	int hlen = snprintf(head, sizeof(head),
	                    "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
	                    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n"
	                    "{\"event\":\"%s\",\"id\":\"%s\",\"data\":",
	                    L.path, L.hostport, L.token, blen, L.event, id);
	c->reqlen = (size_t)hlen + L.datalen + 1;
	c->bodylen = blen;
	c->req = realloc(c->req, c->reqlen);
	memcpy(c->req, head, (size_t)hlen);
	memcpy(c->req + hlen, L.data, L.datalen);
	c->req[c->reqlen - 1] = '}';
	c->woff = 0;
	c->rlen = 0;
	c->ev = ev;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = C_CLOSED;
}

static int conn_open(struct conn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
	if (epoll_ctl(L.epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
		conn_close(c);
		return -1;
	}
	if (connect(c->fd, (struct sockaddr *)&L.addr, sizeof(L.addr)) < 0 &&
	    errno != EINPROGRESS) {
		conn_close(c);
		return -1;
	}
	c->state = C_CONNECTING;
	return 0;
}

/* Write what is left of the request. 0: written or waiting for EPOLLOUT; -1: failed. */
static int conn_write(struct conn *c)
{
	while (c->woff < c->reqlen) {
		ssize_t n = write(c->fd, c->req + c->woff, c->reqlen - c->woff);
		if (n > 0) {
			c->woff += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->state = C_SENDING;
			return 0;
		} else {
			return -1;
		}
	}
	c->state = C_WAITING;
	return 0;
}

static void finish_event(bool ok)
{
	L.done++;
	if (ok)
		L.ok++;
}

/* The connection failed with an event in flight: send it again, or give up on it. */
static void conn_failed(struct conn *c)
{
	conn_close(c);
	if (c->ev < 0)
		return;
	if (++c->tries >= MAX_TRIES) {
		L.errors++;
		finish_event(false);
	} else {
		L.resent++;
		L.retry[L.nretry++] = (struct resend){c->ev, c->t0, c->tries};
	}
	c->ev = -1;
}

/* Start event ev on c (due at t0). */
static void send_event(struct conn *c, long long ev, int64_t t0, int tries)
{
	build_request(c, ev);
	c->tries = tries;
	c->t0 = t0;
	if (c->state == C_CLOSED && conn_open(c) < 0) {
		conn_failed(c);
		return;
	}
	if (L.ids && tries == 0) {
		char id[64];
		event_id(ev, id, sizeof(id));
		fprintf(L.ids, "%s %lld\n", id, (long long)t0);
	}
	if (c->state == C_CONNECTING)
		return; /* written when the connect completes (EPOLLOUT) */
	if (conn_write(c) < 0)
		conn_failed(c);
}

/* Case-insensitive search for a header value in the response head. */
static const char *find_header(const char *head, size_t hlen, const char *name)
{
	size_t nl = strlen(name);
	const char *p = head, *end = head + hlen;
	while (p < end) {
		const char *e = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!e)
			break;
		if ((size_t)(e - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
			p += nl + 1;
			while (*p == ' ')
				p++;
			return p;
		}
		p = e + 2;
	}
	return NULL;
}

/*
 * Parse c->rbuf: 1 when a whole answer is there (its event is finished), 0 when
 * more is needed, -1 when it is not HTTP. *close_after says "Connection: close".
 */
static int parse_answer(struct conn *c, bool *close_after)
{
	char *hend = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
	if (!hend)
		return c->rlen >= RBUF ? -1 : 0;
	size_t hlen = (size_t)(hend - c->rbuf) + 4;
	if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.", 7) != 0)
		return -1;
	int status = atoi(c->rbuf + 9);
	const char *cl = find_header(c->rbuf, hlen, "Content-Length");
	long long clen = cl ? atoll(cl) : 0;
	if (clen < 0 || hlen + (size_t)clen > RBUF)
		return -1;
	if (c->rlen < hlen + (size_t)clen)
		return 0;
	const char *conn = find_header(c->rbuf, hlen, "Connection");
	*close_after = conn && strncasecmp(conn, "close", 5) == 0;

	int64_t t = now_ns();
	if (status == L.expect) {
		L.lat[L.nlat++] = t - c->t0;
		L.bytes += (long long)c->bodylen;
		finish_event(true);
	} else {
		L.non202++;
		finish_event(false);
		if (L.shown++ < SHOW_BAD) {
			char id[64];
			event_id(c->ev, id, sizeof(id));
			fprintf(stderr, "bench_load: %s: HTTP %d: %.*s\n", id, status, (int)clen,
			        c->rbuf + hlen);
		}
	}
	c->ev = -1;
	size_t used = hlen + (size_t)clen;
	memmove(c->rbuf, c->rbuf + used, c->rlen - used);
	c->rlen -= used;
	return 1;
}

/* How many events are due by now (everything at once in closed loop). */
static long long due_count(void)
{
	if (L.rate <= 0)
		return L.n;
	double el = (double)(now_ns() - L.start_ns) / 1e9;
	long long d = (long long)(el * L.rate) + 1;
	return d < L.n ? d : L.n;
}

static int64_t due_time(long long ev)
{
	if (L.rate <= 0)
		return now_ns();
	return L.start_ns + (int64_t)((double)ev * 1e9 / L.rate);
}

/* Give c its next piece of work, or put it on the idle list. */
static void next_work(struct conn *c)
{
	if (L.nretry > 0) {
		struct resend r = L.retry[--L.nretry];
		/* A resend keeps its first due time: latency includes the failure. */
		send_event(c, r.ev, r.t0, r.tries);
		return;
	}
	if (L.next < due_count()) {
		long long ev = L.next++;
		int64_t due = due_time(ev);
		int64_t t = now_ns();
		send_event(c, ev, due < t ? due : t, 0);
		return;
	}
	if (c->state == C_WAITING || c->state == C_SENDING)
		c->state = C_IDLE;
	c->inext = L.idle;
	c->idle = true;
	L.idle = c;
}

static void on_conn_event(struct conn *c, uint32_t events)
{
	if (c->state == C_CONNECTING) {
		if (events & (EPOLLERR | EPOLLHUP)) {
			conn_failed(c);
			next_work(c);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		if (c->ev < 0) {
			c->state = C_IDLE;
			next_work(c);
			return;
		}
		if (conn_write(c) < 0) {
			conn_failed(c);
			next_work(c);
			return;
		}
	}
	if (c->state == C_SENDING && events & EPOLLOUT) {
		if (conn_write(c) < 0) {
			conn_failed(c);
			next_work(c);
			return;
		}
	}
	/* An answer may have come while the request was still being written. */
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && c->rlen == 0)
		return;
	bool eof = false;
	for (;;) {
		if (c->rlen >= RBUF) {
			eof = true; /* an answer larger than we accept */
			break;
		}
		ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
		if (n > 0) {
			c->rlen += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		eof = true;
		break;
	}
	bool close_after = false;
	if (c->ev >= 0 && c->state == C_WAITING) {
		int r = parse_answer(c, &close_after);
		if (r < 0) {
			eof = true;
		} else if (r == 1) {
			c->tries = 0;
			if (close_after || eof)
				conn_close(c);
			next_work(c);
			return;
		}
	}
	if (eof) {
		conn_failed(c);
		/* conn_failed queued the event again; this connection takes it (or other work). */
		if (!c->idle)
			next_work(c);
	}
}

/* Hand due work to idle connections. */
static void wake_idle(void)
{
	while (L.idle && (L.nretry > 0 || L.next < due_count())) {
		struct conn *c = L.idle;
		L.idle = c->inext;
		c->inext = NULL;
		c->idle = false;
		next_work(c);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const int64_t *v, long long n, double p)
{
	if (n == 0)
		return 0;
	long long i = (long long)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

static int parse_url(const char *url)
{
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	const char *h = url + 7;
	const char *slash = strchr(h, '/');
	size_t hl = slash ? (size_t)(slash - h) : strlen(h);
	if (hl == 0 || hl >= sizeof(L.hostport))
		return -1;
	memcpy(L.hostport, h, hl);
	L.hostport[hl] = '\0';
	snprintf(L.path, sizeof(L.path), "%s", slash ? slash : "/");
	char host[300];
	snprintf(host, sizeof(host), "%s", L.hostport);
	char *colon = strrchr(host, ':');
	const char *port = "80";
	if (colon) {
		*colon = '\0';
		port = colon + 1;
	}
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	memcpy(&L.addr, res->ai_addr, sizeof(L.addr));
	freeaddrinfo(res);
	return 0;
}

/* ---------------------------------------------------------------- join */

struct idrec {
	char *id;
	int64_t ns;
};

static int cmp_idrec(const void *a, const void *b)
{
	const struct idrec *x = a, *y = b;
	int r = strcmp(x->id, y->id);
	if (r)
		return r;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

/* Read "<id> <ns>" lines; the strings point into *text. */
static struct idrec *read_ids(const char *path, long long *count, char **text)
{
	size_t len;
	char *t = read_file(path, &len);
	if (!t)
		return NULL;
	long long cap = 1024, n = 0;
	struct idrec *v = malloc((size_t)cap * sizeof(*v));
	char *p = t, *end = t + len;
	while (p < end && v) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		*nl = '\0';
		char *sp = strrchr(p, ' ');
		if (sp) {
			*sp = '\0';
			if (n == cap) {
				cap *= 2;
				struct idrec *nv = realloc(v, (size_t)cap * sizeof(*v));
				if (!nv) {
					free(v);
					v = NULL;
					break;
				}
				v = nv;
			}
			v[n].id = p;
			v[n].ns = strtoll(sp + 1, NULL, 10);
			n++;
		}
		p = nl + 1;
	}
	if (!v) {
		free(t);
		return NULL;
	}
	*count = n;
	*text = t;
	qsort(v, (size_t)n, sizeof(*v), cmp_idrec);
	return v;
}

static int join_main(const char *sendp, const char *recvp)
{
	long long ns = 0, nr = 0;
	char *ts = NULL, *tr = NULL;
	struct idrec *s = read_ids(sendp, &ns, &ts);
	struct idrec *r = read_ids(recvp, &nr, &tr);
	int64_t *lat = s && r ? malloc((size_t)(ns + 1) * sizeof(*lat)) : NULL;
	if (!lat) {
		fprintf(stderr, "bench_load: --join: cannot read %s or %s\n", sendp, recvp);
		free(s);
		free(r);
		free(ts);
		free(tr);
		return 1;
	}
	long long nl = 0, missing = 0, j = 0;
	for (long long i = 0; i < ns; i++) {
		if (i > 0 && strcmp(s[i].id, s[i - 1].id) == 0)
			continue; /* a resent event: its first send counts */
		while (j < nr && strcmp(r[j].id, s[i].id) < 0)
			j++;
		if (j < nr && strcmp(r[j].id, s[i].id) == 0)
			lat[nl++] =
			    r[j].ns - s[i].ns; /* r sorted by ns within an id: the first receipt */
		else
			missing++;
	}
	qsort(lat, (size_t)nl, sizeof(*lat), cmp_i64);
	printf("matched=%lld missing=%lld p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", nl,
	       missing, pct_ms(lat, nl, 0.50), pct_ms(lat, nl, 0.90), pct_ms(lat, nl, 0.99),
	       nl ? (double)lat[nl - 1] / 1e6 : 0.0);
	free(lat);
	free(s);
	free(r);
	free(ts);
	free(tr);
	return missing ? 3 : 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	const char *url = NULL, *data_path = "../../tests/data/candidate-hired.data.json";
	const char *ids_path = NULL;
	char prefix[64];
	L.n = 1000;
	L.c = 64;
	L.event = "candidate.hired";
	snprintf(prefix, sizeof(prefix), "b%lx%x", (long)time(NULL), (unsigned)getpid());
	L.prefix = prefix;

	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"token", required_argument, NULL, 't'},
	    {"events", required_argument, NULL, 'n'},
	    {"conns", required_argument, NULL, 'c'},
	    {"data", required_argument, NULL, 'd'},
	    {"event", required_argument, NULL, 'E'},
	    {"prefix", required_argument, NULL, 'P'},
	    {"rate", required_argument, NULL, 'r'},
	    {"ids", required_argument, NULL, 'i'},
	    {"join", no_argument, NULL, 'j'},
	    {"gupy", no_argument, NULL, 'g'},
	    {"hmac-secret", required_argument, NULL, 'S'},
	    {"hmac-header", required_argument, NULL, 'H'},
	    {"entities", required_argument, NULL, 'e'},
	    {"per", required_argument, NULL, 'k'},
	    {"block", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	bool join = false, event_set = false;
	L.signame = "X-Signature";
	L.per = 10;
	L.block = 64;
	int ch;
	while ((ch = getopt_long(argc, argv, "n:c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 't': L.token = optarg; break;
		case 'n': L.n = atoll(optarg); break;
		case 'c': L.c = atoi(optarg); break;
		case 'd': data_path = optarg; break;
		case 'E':
			L.event = optarg;
			event_set = true;
			break;
		case 'P': L.prefix = optarg; break;
		case 'r': L.rate = atof(optarg); break;
		case 'i': ids_path = optarg; break;
		case 'j': join = true; break;
		case 'g': L.gupy = true; break;
		case 'S': L.secret = optarg; break;
		case 'H': L.signame = optarg; break;
		case 'e': L.entities = atoll(optarg); break;
		case 'k': L.per = atoi(optarg); break;
		case 'b': L.block = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (join) {
		if (argc - optind != 2) {
			usage(stderr);
			return 2;
		}
		return join_main(argv[optind], argv[optind + 1]);
	}
	if (L.gupy) {
		if (!event_set)
			L.event = "application.moved";
		L.expect = 200;
		if (L.entities < 0 || L.entities > 100000000 || L.per < 1 || L.per > 1000 ||
		    L.block < 1 || L.block > 100000) {
			usage(stderr);
			return 2;
		}
		if (L.entities > 0)
			L.n = L.entities * L.per;
	} else {
		L.expect = 202;
	}
	if (!url || (!L.token && !L.gupy) || L.n < 1 || L.c < 1 || L.rate < 0 || optind < argc ||
	    (!L.gupy && (L.secret || L.entities))) {
		usage(stderr);
		return 2;
	}
	if (L.entities > 0) {
		long long full = (long long)L.block * L.per, last = (L.entities % L.block) * L.per;
		L.perm[0] = make_perm(full);
		L.perm[1] = last ? make_perm(last) : NULL;
		if (!L.perm[0] || (last && !L.perm[1])) {
			fprintf(stderr, "bench_load: out of memory\n");
			return 1;
		}
	}
	if (parse_url(url) < 0) {
		fprintf(stderr, "bench_load: --url: expected http://HOST:PORT/PATH, got \"%s\"\n",
		        url);
		return 2;
	}
	L.data = read_file(data_path, &L.datalen);
	if (!L.data) {
		fprintf(stderr, "bench_load: --data %s: %s\n", data_path, strerror(errno));
		return 1;
	}
	if (ids_path) {
		L.ids = fopen(ids_path, "w");
		if (!L.ids) {
			fprintf(stderr, "bench_load: --ids %s: %s\n", ids_path, strerror(errno));
			return 1;
		}
		setvbuf(L.ids, NULL, _IOFBF, 1 << 20);
	}
	if (L.c > L.n)
		L.c = (int)L.n;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);

	L.lat = malloc((size_t)L.n * sizeof(*L.lat));
	L.retry = malloc((size_t)L.c * sizeof(*L.retry));
	L.conns = calloc((size_t)L.c, sizeof(*L.conns));
	L.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!L.lat || !L.retry || !L.conns || L.epfd < 0) {
		fprintf(stderr, "bench_load: out of memory\n");
		return 1;
	}

	/* Open loop: a 200 µs tick hands due events to idle connections. */
	int tfd = -1;
	if (L.rate > 0) {
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct itimerspec its = {.it_interval = {0, 200000}, .it_value = {0, 200000}};
		timerfd_settime(tfd, 0, &its, NULL);
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = NULL};
		epoll_ctl(L.epfd, EPOLL_CTL_ADD, tfd, &e);
	}

	L.start_ns = now_ns();
	for (int i = 0; i < L.c; i++) {
		struct conn *c = &L.conns[i];
		c->fd = -1;
		c->ev = -1;
		c->state = C_CLOSED;
		next_work(c);
	}

	struct epoll_event evs[MAX_EVENTS];
	while (L.done < L.n) {
		int n = epoll_wait(L.epfd, evs, MAX_EVENTS, 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("bench_load: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				uint64_t ticks;
				if (read(tfd, &ticks, sizeof(ticks)) < 0) {
					/* nothing: the tick is only a wake-up */
				}
				continue;
			}
			on_conn_event(c, evs[i].events);
		}
		wake_idle();
	}
	int64_t end_ns = now_ns();
	if (L.ids && fclose(L.ids) != 0) {
		perror("bench_load: --ids");
		return 1;
	}

	qsort(L.lat, (size_t)L.nlat, sizeof(*L.lat), cmp_i64);
	double el = (double)(end_ns - L.start_ns) / 1e9;
	printf(
	    "sent=%lld ok=%lld non202=%lld errors=%lld resent=%lld bytes=%lld elapsed=%.6f "
	    "rate=%.1f start_ns=%lld end_ns=%lld p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
	    L.n, L.ok, L.non202, L.errors, L.resent, L.bytes, el, el > 0 ? (double)L.ok / el : 0.0,
	    (long long)L.start_ns, (long long)end_ns, pct_ms(L.lat, L.nlat, 0.50),
	    pct_ms(L.lat, L.nlat, 0.90), pct_ms(L.lat, L.nlat, 0.99),
	    L.nlat ? (double)L.lat[L.nlat - 1] / 1e6 : 0.0);
	for (int i = 0; i < L.c; i++) {
		if (L.conns[i].fd >= 0)
			close(L.conns[i].fd);
		free(L.conns[i].req);
	}
	free(L.conns);
	free(L.retry);
	free(L.lat);
	free(L.data);
	free(L.perm[0]);
	free(L.perm[1]);
	close(L.epfd);
	if (tfd >= 0)
		close(tfd);
	return L.ok == L.n ? 0 : 3;
}
