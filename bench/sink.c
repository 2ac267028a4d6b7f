/*
 * sink: a fast HTTP/1.1 receiver for the benchmarks (bench/run).
 *
 * One thread, one epoll loop, non-blocking sockets. Each connection gathers
 * bytes until it holds a whole request (request line, headers, and as many
 * body bytes as Content-Length says), answers it, and keeps the connection
 * open for the next one (keep-alive; "Connection: close" is honoured). Bodies
 * may arrive in any number of pieces. Pipelined requests are answered in
 * order, one at a time. Chunked request bodies are not supported (gancho's
 * libcurl and wrk both send Content-Length); such a request gets 501.
 *
 * Every request except GET /stats is counted and answered
 * "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" (or --status CODE).
 * GET /stats answers {"requests": N}.
 *
 * With --ids FILE, the envelope "id" of each body (gancho puts it before
 * "data", so the first "id":"..." in the body is the event's) is written with
 * the CLOCK_REALTIME nanoseconds at which the whole request was read:
 * "<id> <ns>\n". The file is buffered and flushed on exit and on SIGTERM.
 * --id-key NAME records the first "NAME":"..." instead (a Gupy tag request's
 * body is {"name":"..."}: --id-key name).
 *
 * With --want 'METHOD /PATH', each counted request whose method is not METHOD
 * or whose path does not match /PATH is counted as unwanted (a "*" segment of
 * /PATH matches any one non-empty segment; the query is part of the last
 * segment), and the first few are printed on stderr; the exit line then ends
 * with " unwanted=N". Such requests are answered as the others: the count is a
 * check for the run, not an API.
 *
 * Output on stdout, one line each, flushed at once:
 *   port=N                                   first, always
 *   mark requests=N at_ns=T                  every --mark N requests
 *   requests=N elapsed=S rate=R first_ns=T last_ns=T conns=N max_open=N
 *                                            at exit (--expect reached, or SIGTERM/SIGINT;
 *                                            with --want, then " unwanted=N")
 * elapsed is from the first counted request to the last one; conns counts the
 * connections accepted, max_open the most that were open at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, memmem */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include <time.h>
#include <unistd.h>

#define READ_CHUNK  65536
#define MAX_REQUEST (64 << 20)
#define MAX_EVENTS  256
#define MAX_ID      200
#define MAX_KEY     64
#define SHOW_BAD    3

struct conn {
	int fd;
	char *buf; /* bytes read and not yet consumed */
	size_t len, cap;
	size_t scanned; /* how far buf was searched for the end of the headers */
	char out[256];  /* the answer being written */
	size_t outlen, outoff;
	bool close_after;         /* close once out is written */
	bool continued;           /* "100 Continue" already sent for the current request */
	struct conn *prev, *next; /* every open connection, so exit can free them */
};

static volatile sig_atomic_t stop_flag;

static struct {
	int status;
	long long expect;
	long long mark;
	FILE *ids;
	char id_key[MAX_KEY + 4]; /* "KEY":" searched for by record_id */
	size_t id_key_len;
	const char *want_method, *want_path; /* --want, split; NULL when not given */
	size_t want_mlen;
	long long unwanted; /* requests --want did not match */
	long long requests;
	long long conns;    /* connections accepted */
	long long open;     /* connections open now */
	long long max_open; /* the most open at once */
	int64_t first_ns, last_ns;
	int epfd;
	struct conn *all;
} S;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: bench_sink [--host ADDR] [--port N] [--expect N] [--mark N]\n"
	        "                  [--ids FILE [--id-key NAME]] [--status CODE]\n"
	        "                  [--want 'METHOD /PATH']\n"
	        "\n"
	        "  --host ADDR     address to listen on (default 127.0.0.1)\n"
	        "  --port N        port (0 = any; the first line of stdout says port=N)\n"
	        "  --expect N      exit 0 after N requests, printing elapsed and rate\n"
	        "  --mark N        print \"mark requests=K at_ns=T\" every N requests\n"
	        "  --ids FILE      append \"<envelope id> <CLOCK_REALTIME ns>\" per request\n"
	        "  --id-key NAME   --ids records the first \"NAME\":\"...\" (default id)\n"
	        "  --status CODE   answer CODE instead of 200\n"
	        "  --want 'METHOD /PATH'  count requests that are not METHOD /PATH (a * segment\n"
	        "                  matches any one segment): \" unwanted=N\" at exit\n");
}

static void summary(void)
{
	double el = S.requests > 1 ? (double)(S.last_ns - S.first_ns) / 1e9 : 0.0;
	double rate = el > 0 ? (double)(S.requests - 1) / el : 0.0;
	printf("requests=%lld elapsed=%.6f rate=%.1f first_ns=%lld last_ns=%lld conns=%lld "
	       "max_open=%lld",
	       S.requests, el, rate, (long long)S.first_ns, (long long)S.last_ns, S.conns,
	       S.max_open);
	if (S.want_method)
		printf(" unwanted=%lld", S.unwanted);
	printf("\n");
	fflush(stdout);
	if (S.ids)
		fflush(S.ids);
}

static void conn_close(struct conn *c)
{
	close(c->fd); /* also removes it from the epoll set */
	S.open--;
	if (c->prev)
		c->prev->next = c->next;
	else
		S.all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->buf);
	free(c);
}

/* Write what is left of c->out. 0: all written; 1: would block; -1: error. */
static int conn_flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n > 0) {
			c->outoff += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return 1;
		} else {
			return -1;
		}
	}
	c->outlen = c->outoff = 0;
	return 0;
}

static void set_answer(struct conn *c, int code, const char *ctype, const char *body)
{
	if (code == 100) {
		c->outlen =
		    (size_t)snprintf(c->out, sizeof(c->out), "HTTP/1.1 100 Continue\r\n\r\n");
	} else {
		c->outlen = (size_t)snprintf(
		    c->out, sizeof(c->out),
		    "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\n%s\r\n%s", code,
		    code == 200 ? "OK" : "Status", ctype ? "Content-Type: " : "",
		    ctype ? ctype : "", ctype ? "\r\n" : "", strlen(body),
		    c->close_after ? "Connection: close\r\n" : "", body);
	}
	c->outoff = 0;
}

/* Record the envelope id of body (the first "id":"..." in it, or --id-key's). */
static void record_id(const char *body, size_t n, int64_t at)
{
	const char *p = memmem(body, n, S.id_key, S.id_key_len);
	if (!p)
		return;
	p += S.id_key_len;
	const char *end = body + n;
	const char *q = p;
	while (q < end && *q != '"' && q - p < MAX_ID)
		q++;
	if (q >= end || *q != '"')
		return;
	fprintf(S.ids, "%.*s %lld\n", (int)(q - p), p, (long long)at);
}

/*
 * Does the request path [p, p + n) match --want's path? Segment by segment; a
 * "*" segment of the pattern matches any one non-empty segment.
 */
static bool path_matches(const char *p, size_t n)
{
	const char *w = S.want_path, *e = p + n;
	while (*w && p < e) {
		if (w[0] == '*' && (w[1] == '/' || w[1] == '\0')) {
			const char *q = p;
			while (q < e && *q != '/')
				q++;
			if (q == p)
				return false;
			p = q;
			w++;
		} else if (*w == *p) {
			w++;
			p++;
		} else {
			return false;
		}
	}
	return *w == '\0' && p == e;
}

/* Count (and show the first few of) the requests --want does not match. */
static void check_wanted(const char *method, size_t mlen, const char *path, size_t plen)
{
	if (mlen == S.want_mlen && memcmp(method, S.want_method, mlen) == 0 &&
	    path_matches(path, plen))
		return;
	if (S.unwanted++ < SHOW_BAD)
		fprintf(stderr, "bench_sink: unwanted request: %.*s %.*s\n", (int)mlen, method,
		        (int)(plen > 300 ? 300 : plen), path);
}

/* Is the header line [p, e) named name (case-insensitive)? Sets *val to the trimmed value. */
static bool header_is(const char *p, const char *e, const char *name, const char **val,
                      size_t *vlen)
{
	size_t nl = strlen(name);
	if ((size_t)(e - p) <= nl || p[nl] != ':' || strncasecmp(p, name, nl) != 0)
		return false;
	p += nl + 1;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*val = p;
	*vlen = (size_t)(e - p);
	return true;
}

/*
 * Take whole requests from c->buf and answer them. Returns -1 when the
 * connection must be closed now, 0 otherwise (more bytes needed, or an
 * answer is waiting for the socket to drain).
 */
static int conn_process(struct conn *c)
{
	size_t off = 0;
	int rc = 0;
	while (c->outlen == 0 && !c->close_after) {
		char *base = c->buf + off;
		size_t avail = c->len - off;
		size_t from = c->scanned > 3 ? c->scanned - 3 : 0;
		char *hend = avail >= 4 ? memmem(base + from, avail - from, "\r\n\r\n", 4) : NULL;
		if (!hend) {
			c->scanned = avail;
			if (avail > 65536) {
				rc = -1; /* headers this long: not an HTTP client we know */
			}
			break;
		}
		size_t hlen = (size_t)(hend - base) + 4;

		/* Request line: METHOD SP PATH SP VERSION */
		char *le = memchr(base, '\r', hlen);
		char *sp1 = memchr(base, ' ', (size_t)(le - base));
		if (!sp1) {
			rc = -1;
			break;
		}
		char *path = sp1 + 1;
		char *sp2 = memchr(path, ' ', (size_t)(le - path));
		size_t plen = sp2 ? (size_t)(sp2 - path) : (size_t)(le - path);
		bool http10 = sp2 && le - sp2 >= 9 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0;
		bool is_get = sp1 - base == 3 && memcmp(base, "GET", 3) == 0;

		long long clen = 0;
		bool keep = !http10, chunked = false, expect100 = false;
		char *p = le + 2;
		while (p < hend) {
			char *e = memchr(p, '\r', (size_t)(hend + 2 - p));
			if (!e)
				break;
			const char *v;
			size_t vl;
			if (header_is(p, e, "Content-Length", &v, &vl)) {
				clen = strtoll(v, NULL, 10);
			} else if (header_is(p, e, "Connection", &v, &vl)) {
				if (vl >= 5 && strncasecmp(v, "close", 5) == 0)
					keep = false;
				else if (vl >= 10 && strncasecmp(v, "keep-alive", 10) == 0)
					keep = true;
			} else if (header_is(p, e, "Transfer-Encoding", &v, &vl)) {
				chunked = true;
			} else if (header_is(p, e, "Expect", &v, &vl)) {
				expect100 = vl == 12 && strncasecmp(v, "100-continue", 12) == 0;
			}
			p = e + 2;
		}
		if (chunked || clen < 0 || clen > MAX_REQUEST) {
			c->close_after = true;
			set_answer(c, 501, NULL, "no");
			off = c->len;
			break;
		}
		if (avail < hlen + (size_t)clen) {
			if (expect100 && !c->continued) {
				c->continued = true;
				set_answer(c, 100, NULL, "");
			}
			/* Headers found, body incomplete: next time, find them again at once. */
			c->scanned = (size_t)(hend - base);
			break;
		}

		/* A whole request. */
		c->continued = false;
		c->scanned = 0;
		c->close_after = !keep;
		if (is_get && plen == 6 && memcmp(path, "/stats", 6) == 0) {
			char body[64];
			snprintf(body, sizeof(body), "{\"requests\": %lld}", S.requests);
			set_answer(c, 200, "application/json", body);
		} else {
			int64_t at = now_ns();
			if (S.requests == 0)
				S.first_ns = at;
			S.last_ns = at;
			S.requests++;
			if (S.ids)
				record_id(base + hlen, (size_t)clen, at);
			if (S.want_method)
				check_wanted(base, (size_t)(sp1 - base), path, plen);
			set_answer(c, S.status, NULL, "ok");
			if (S.mark > 0 && S.requests % S.mark == 0) {
				printf("mark requests=%lld at_ns=%lld\n", S.requests,
				       (long long)at);
				fflush(stdout);
			}
		}
		off += hlen + (size_t)clen;
		int f = conn_flush(c);
		if (f < 0) {
			rc = -1;
			break;
		}
		if (S.expect > 0 && S.requests >= S.expect)
			break;
	}
	if (off > 0) {
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	if (rc == 0 && c->outlen > 0) {
		int f = conn_flush(c);
		if (f < 0)
			rc = -1;
	}
	if (rc == 0 && c->outlen == 0 && c->close_after)
		rc = -1;
	return rc;
}

/* Read everything the socket has; -1 when the peer closed or failed. */
static int conn_read(struct conn *c)
{
	for (;;) {
		if (c->cap - c->len < READ_CHUNK / 4) {
			size_t ncap = c->cap ? c->cap * 2 : READ_CHUNK;
			if (ncap > MAX_REQUEST + 65536)
				return -1;
			char *nb = realloc(c->buf, ncap);
			if (!nb)
				return -1;
			c->buf = nb;
			c->cap = ncap;
		}
		ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return -1;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				fprintf(stderr, "bench_sink: accept: %s\n", strerror(errno));
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->next = S.all;
		if (S.all)
			S.all->prev = c;
		S.all = c;
		S.conns++;
		if (++S.open > S.max_open)
			S.max_open = S.open;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
		                         .data.ptr = c};
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			conn_close(c);
			continue;
		}
	}
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1", *ids_path = NULL, *id_key = "id", *want = NULL;
	int port = 0;
	S.status = 200;
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},   {"port", required_argument, NULL, 'p'},
	    {"expect", required_argument, NULL, 'e'}, {"mark", required_argument, NULL, 'm'},
	    {"ids", required_argument, NULL, 'i'},    {"status", required_argument, NULL, 's'},
	    {"id-key", required_argument, NULL, 'k'}, {"want", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'e': S.expect = atoll(optarg); break;
		case 'm': S.mark = atoll(optarg); break;
		case 'i': ids_path = optarg; break;
		case 's': S.status = atoi(optarg); break;
		case 'k': id_key = optarg; break;
		case 'w': want = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port < 0 || port > 65535 || S.status < 100 || S.status > 999 || optind < argc) {
		usage(stderr);
		return 2;
	}
	size_t kl = strlen(id_key);
	if (kl == 0 || kl > MAX_KEY || strpbrk(id_key, "\"\\") != NULL) {
		fprintf(stderr, "bench_sink: --id-key: 1-%d characters, no quote or backslash\n",
		        MAX_KEY);
		return 2;
	}
	S.id_key_len = (size_t)snprintf(S.id_key, sizeof(S.id_key), "\"%s\":\"", id_key);
	if (want) {
		const char *sp = strchr(want, ' ');
		if (!sp || sp == want || sp[1] != '/' || strchr(sp + 1, ' ') != NULL) {
			fprintf(stderr, "bench_sink: --want: 'METHOD /PATH', got \"%s\"\n", want);
			return 2;
		}
		S.want_method = want;
		S.want_mlen = (size_t)(sp - want);
		S.want_path = sp + 1;
	}
	if (ids_path) {
		S.ids = fopen(ids_path, "a");
		if (!S.ids) {
			fprintf(stderr, "bench_sink: %s: %s\n", ids_path, strerror(errno));
			return 1;
		}
		setvbuf(S.ids, NULL, _IOFBF, 1 << 20);
	}
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: epoll_wait returns EINTR */
	sigaction(SIGINT, &sa, NULL);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "bench_sink: --host: an IPv4 address, got \"%s\"\n", host);
		return 2;
	}
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, SOMAXCONN) < 0) {
		fprintf(stderr, "bench_sink: %s:%d: %s\n", host, port, strerror(errno));
		return 1;
	}
	socklen_t sl = sizeof(sin);
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	printf("port=%d\n", ntohs(sin.sin_port));
	fflush(stdout);

	S.epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	epoll_ctl(S.epfd, EPOLL_CTL_ADD, lfd, &lev);

	struct epoll_event evs[MAX_EVENTS];
	while (!stop_flag && !(S.expect > 0 && S.requests >= S.expect)) {
		int n = epoll_wait(S.epfd, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("bench_sink: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				on_accept(lfd);
				continue;
			}
			int rc = 0;
			if (evs[i].events & EPOLLOUT && c->outlen > 0)
				rc = conn_flush(c) < 0 ? -1 : 0;
			bool closed = false;
			if (rc == 0 && evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				closed = conn_read(c) < 0;
			/* Answer what arrived, even when the peer has half-closed after sending it.
			 */
			if (rc == 0)
				rc = conn_process(c);
			if (rc < 0 || (closed && c->outlen == 0))
				conn_close(c);
		}
	}
	summary();
	while (S.all)
		conn_close(S.all);
	close(S.epfd);
	close(lfd);
	if (S.ids && fclose(S.ids) != 0) {
		perror("bench_sink: --ids");
		return 1;
	}
	return 0;
}
