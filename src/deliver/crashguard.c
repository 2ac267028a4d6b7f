/*
 * crashguard: see crashguard.h.
 *
 * The delivery being handled is thread-local: only the thread that handles it
 * (the dispatcher) sets it, and a fatal signal from a fault or abort() is
 * delivered to the thread that caused it, so a crash elsewhere (an HTTP
 * thread, the committer) never blames a delivery. The value is written
 * before the work and cleared after, with a signal fence so the compiler
 * keeps it in place around the code it guards.
 *
 * The handler formats the marker by hand ("<seq> <signal>\n") and uses only
 * open, write, fsync, close, sigaction and raise. It then puts the previous
 * action back: a signal sent by raise/abort/kill is raised again and arrives
 * when the handler returns; a fault (SIGSEGV from a bad access) simply
 * happens again when the instruction is run again. Either way the previous
 * handler (the sanitizer's, when there is one) or the default action sees it
 * as if gancho had never looked.
 *
 * Sanitizer builds report an error and then exit or abort from inside the
 * runtime (UBSan with halt_on_error exits 1, no signal at all), so the marker
 * is also written by a death callback, __sanitizer_set_death_callback (signal
 * 0 in the marker). A runtime linked into the program (clang) is reached
 * through a weak symbol, absent without a sanitizer; GCC's runtimes are
 * shared libraries, one per sanitizer (libasan, libubsan), each with its own
 * callback, so each loaded one is asked by name.
 */
#include "deliver/crashguard.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"

#define CRASH_FILE_DEFAULT "./gancho.crashed"
#define CRASH_SUFFIX       ".crashed"
#define MARKER_MAX         64 /* "<seq> <signal>\n": 19 + 1 + 3 + 1 digits at most */

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NFATAL ((int)(sizeof(fatal_signals) / sizeof(fatal_signals[0])))

static char marker_path[PATH_MAX];
static struct sigaction previous[NFATAL];
static _Thread_local volatile int64_t current; /* the delivery this thread handles, 0: none */

/* Present only in a sanitizer build (weak: NULL otherwise). */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* marker_write: async-signal-safe. Writes once per crash (current is cleared). */
static void marker_write(int sig)
{
	int64_t seq = current;
	if (seq <= 0 || !marker_path[0])
		return;
	current = 0;
	char line[MARKER_MAX];
	char digits[24];
	int n = 0, k = 0;
	for (uint64_t v = (uint64_t)seq; v; v /= 10)
		digits[k++] = (char)('0' + v % 10);
	while (k)
		line[n++] = digits[--k];
	line[n++] = ' ';
	unsigned s = sig > 0 && sig < 1000 ? (unsigned)sig : 0;
	if (s >= 100)
		line[n++] = (char)('0' + s / 100);
	if (s >= 10)
		line[n++] = (char)('0' + s / 10 % 10);
	line[n++] = (char)('0' + s % 10);
	line[n++] = '\n';
	int fd = open(marker_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	for (int off = 0; off < n;) {
		ssize_t w = write(fd, line + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (int)w;
	}
	fsync(fd);
	close(fd);
}

static void on_fatal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	int saved = errno;
	marker_write(sig);
	for (int i = 0; i < NFATAL; i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &previous[i], NULL);
	/* Sent (raise, abort, kill): send it again; it arrives when we return.
	 * A fault comes back by itself when the instruction runs again. */
	if (!info || info->si_code <= 0)
		raise(sig);
	errno = saved;
}

static void on_sanitizer_death(void)
{
	marker_write(0);
}

/* death_callback_in: register the death callback with one loaded sanitizer
 * runtime (lib*san.so*); dl_iterate_phdr's callback. */
static int death_callback_in(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "san.so"))
		return 0;
	void *h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		return 0;
	void (*set)(void (*)(void));
	void *sym = dlsym(h, "__sanitizer_set_death_callback");
	memcpy(&set, &sym, sizeof(set));
	if (set)
		set(on_sanitizer_death);
	dlclose(h);
	return 0;
}

int crashguard_install(const char *db_url, const char *crash_file, struct gerr *err)
{
	int n;
	if (crash_file && *crash_file) {
		n = snprintf(marker_path, sizeof(marker_path), "%s", crash_file);
	} else if (strncmp(db_url, "postgres://", 11) == 0 ||
	           strncmp(db_url, "postgresql://", 13) == 0) {
		n = snprintf(marker_path, sizeof(marker_path), "%s", CRASH_FILE_DEFAULT);
	} else {
		/* the SQLite file's path, as store_open reads the URL */
		const char *path = db_url;
		if (strncmp(path, "sqlite:", 7) == 0)
			path += 7;
		if (strncmp(path, "//", 2) == 0)
			path += 2;
		n = snprintf(marker_path, sizeof(marker_path), "%s" CRASH_SUFFIX, path);
	}
	if (n < 0 || (size_t)n >= sizeof(marker_path)) {
		marker_path[0] = '\0';
		return gerr_set(err, GERR_INVALID, 400, "crash_file", "crash marker path too long");
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < NFATAL; i++)
		if (sigaction(fatal_signals[i], &sa, &previous[i]))
			return gerr_set(err, GERR_IO, 500, "signal",
			                "cannot install a signal handler");
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(on_sanitizer_death);
	dl_iterate_phdr(death_callback_in, NULL);
	return 0;
}

const char *crashguard_path(void)
{
	return marker_path;
}

int64_t crashguard_enter(int64_t seq)
{
	int64_t prev = current;
	current = seq;
	atomic_signal_fence(memory_order_seq_cst);
	return prev;
}

void crashguard_leave(int64_t prev)
{
	atomic_signal_fence(memory_order_seq_cst);
	current = prev;
}

/* marker_parse: "<seq>[ <signal>]" with bounds; -1 when it is not that. */
static int marker_parse(const char *s, int64_t *seq, int *sig)
{
	int64_t v = 0;
	int k = 0;
	for (; s[k] >= '0' && s[k] <= '9'; k++) {
		if (k >= 18)
			return -1;
		v = v * 10 + (s[k] - '0');
	}
	if (!k || v <= 0)
		return -1;
	int g = 0, j = 0;
	if (s[k] == ' ')
		for (k++; s[k] >= '0' && s[k] <= '9' && j < 3; k++, j++)
			g = g * 10 + (s[k] - '0');
	if (s[k] != '\n' && s[k] != '\0')
		return -1;
	*seq = v;
	*sig = g;
	return 0;
}

int crashguard_recover(struct store *s, struct gerr *err)
{
	if (!marker_path[0])
		return 0;
	int fd = open(marker_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return gerr_set(err, GERR_IO, 500, "crash_file", "cannot read %s: %s", marker_path,
		                strerror(errno));
	}
	char text[MARKER_MAX + 1];
	ssize_t len = read(fd, text, MARKER_MAX);
	close(fd);
	text[len > 0 ? len : 0] = '\0';
	int64_t seq;
	int sig;
	if (len <= 0 || marker_parse(text, &seq, &sig)) {
		log_warn("crash_guard_unreadable", "file=%s note=\"not a delivery seq; removed\"",
		         marker_path);
		unlink(marker_path);
		return 0;
	}
	char how[32] = "a sanitizer report"; /* signal 0: the sanitizer's death callback */
	if (sig)
		snprintf(how, sizeof(how), "signal %d", sig);
	char note[256];
	snprintf(note, sizeof(note),
	         "gancho crashed (%s) while handling delivery %lld; it was set aside as failed so"
	         " it cannot crash gancho again (POST /api/v1/deliveries/%lld/retry sends it"
	         " again)",
	         how, (long long)seq, (long long)seq);
	int rc = store_delivery_set_aside(
	    s, seq,
	    "gancho crashed while handling this delivery; it was set aside so it cannot crash it"
	    " again",
	    note, clock_now_ms());
	if (rc < 0)
		return gerr_set(err, GERR_IO, 503, "unavailable",
		                "cannot set aside delivery %lld that gancho crashed on (%s stays)",
		                (long long)seq, marker_path);
	if (rc > 0)
		log_error("crash_guard", "delivery=%lld signal=%d note=\"set aside as failed\"",
		          (long long)seq, sig);
	else
		log_warn("crash_guard",
		         "delivery=%lld signal=%d note=\"not open any more: unchanged\"",
		         (long long)seq, sig);
	if (unlink(marker_path) && errno != ENOENT)
		log_warn("crash_guard_unlink_failed", "file=%s err=\"%s\"", marker_path,
		         strerror(errno));
	return 0;
}
