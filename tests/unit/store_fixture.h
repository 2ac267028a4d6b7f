/*
 * store_fixture: the opening and removing of a test's store, shared by the
 * store tests (test_store_*.c, test_sqlite_*.c). Header only: each test is
 * one program.
 *
 * A test that can run on either backend opens store_fixture_path(…, true):
 * GANCHO_TEST_STORE_URL when set (a postgres:// URL, as the integration
 * runners under tests/integration give it), else a fresh SQLite file under
 * /tmp named after the test and the process. store_fixture_remove deletes
 * that file and its -wal and -shm, and leaves a postgres URL alone.
 * store_fixture_open and store_fixture_close do both with the opening and
 * closing of the store (a test includes this after cmocka.h and store.h).
 */
#ifndef GANCHO_TESTS_STORE_FIXTURE_H
#define GANCHO_TESTS_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* store_fixture_path: the test's store into path: the URL from the
 * environment when url_ok and it is set, else /tmp/gancho-test-<name>-<pid>.db,
 * removed first (a file an earlier run left behind). */
static inline void store_fixture_path(char *path, size_t size, const char *name, bool url_ok)
{
	const char *url = url_ok ? getenv("GANCHO_TEST_STORE_URL") : NULL;
	if (url && *url) {
		snprintf(path, size, "%s", url);
		return;
	}
	snprintf(path, size, "/tmp/gancho-test-%s-%d.db", name, (int)getpid());
	unlink(path);
}

/* store_fixture_remove: the SQLite file at path with its -wal and -shm;
 * nothing for a postgres URL. */
static inline void store_fixture_remove(const char *path)
{
	if (strncmp(path, "postgres", 8) == 0)
		return;
	char aux[300];
	unlink(path);
	snprintf(aux, sizeof(aux), "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof(aux), "%s-shm", path);
	unlink(aux);
}

/* store_fixture_open: store_fixture_path, then the store there opened with
 * open (store_open, or a backend's own opener); the test fails when it
 * cannot be opened. */
static inline struct store *
store_fixture_open(char *path, size_t size, const char *name, bool url_ok,
                   int (*open)(const char *path, struct store **out, struct gerr *err))
{
	struct store *s = NULL;
	struct gerr err = {0};
	store_fixture_path(path, size, name, url_ok);
	if (open(path, &s, &err))
		fail_msg("open %s: %s", path, err.msg);
	return s;
}

/* store_fixture_close: close s and remove its files (store_fixture_remove). */
static inline void store_fixture_close(struct store *s, const char *path)
{
	store_close(s);
	store_fixture_remove(path);
}

#endif
