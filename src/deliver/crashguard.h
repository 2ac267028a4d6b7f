/*
 * crashguard: no single delivery can take gancho down twice.
 *
 * While the dispatcher handles one delivery (builds its request, reads its
 * receiver's answer, applies the outcome) it says so (crashguard_enter). If
 * the process then dies of a fatal signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGABRT) or a sanitizer report, a handler writes that delivery's seq to a
 * marker file with async-signal-safe calls only, and lets the death go on as
 * before (the previous handler or the default action: core dumps and
 * sanitizer reports are unchanged). At the next start, before the engine
 * loads any work, crashguard_recover sets that delivery aside: failed, with
 * an attempt row saying why and an operator record. A retry by hand stays
 * possible. The attempt was never committed, so without this the same
 * delivery would crash every start again.
 *
 * The marker: for sqlite:PATH it is PATH.crashed; for PostgreSQL (no file of
 * its own) ./gancho.crashed in the working directory. GANCHO_CRASH_FILE
 * chooses another path.
 */
#ifndef GANCHO_DELIVER_CRASHGUARD_H
#define GANCHO_DELIVER_CRASHGUARD_H

#include <stdint.h>

#include "store/store.h"
#include "util/gerr.h"

/* crashguard_install: pick the marker path for db_url (or crash_file when
 * not NULL/empty) and install the fatal-signal handlers. Once per process,
 * before the threads start. */
int crashguard_install(const char *db_url, const char *crash_file, struct gerr *err);

/* crashguard_path: the marker path (borrowed), "" before install. */
const char *crashguard_path(void);

/* crashguard_enter: the calling thread now handles delivery seq. Returns the
 * delivery it handled before, to give to crashguard_leave (calls nest). */
int64_t crashguard_enter(int64_t seq);
void crashguard_leave(int64_t prev);

/* crashguard_recover: when a marker is there, set its delivery aside in the
 * store (store_delivery_set_aside), log msg=crash_guard, and delete the
 * marker once that is committed. 0 when done (or there was no marker); a
 * negative error, the marker kept, when the store fails. */
int crashguard_recover(struct store *s, struct gerr *err);

#endif
