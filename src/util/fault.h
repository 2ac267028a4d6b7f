/*
 * fault: named fault-injection points, so tests can reach the paths that only
 * an allocation or thread failure would take (SQLite's sqlite3FaultSim idea).
 *
 * GANCHO_FAULTS="name[:N[+]][,...]" makes fault_hit(name) true on the Nth
 * time it is reached (the first when N is absent), and with "+" at every time
 * after it too; false otherwise. Unset — always in production — fault_hit is one relaxed load
 * and a branch. The environment is read once, at the first call.
 *
 * Points: handover_alloc (the committer's hand-over of new deliveries to the
 * dispatcher), post_alloc (a message from the API to the dispatcher),
 * dispatcher_thread (starting the dispatcher thread), registry_alloc
 * (linking a webhook into its company's list), company_token (storing a new
 * company's first token), replay_commit (committing a page of replayed
 * deliveries), round_alloc (a job's scratch memory in the committer's round:
 * that job alone fails).
 */
#ifndef GANCHO_UTIL_FAULT_H
#define GANCHO_UTIL_FAULT_H

#include <stdbool.h>

bool fault_hit(const char *name);

#endif
