/*
 * cluster: the dispatcher's part in a store shared by several nodes
 * (PostgreSQL). Each node beats once a second; a node silent for
 * node_timeout_ms is reaped by whoever notices, and its deliveries become
 * claimable. A node claims due, unowned deliveries while its window is under
 * half full, lets go of (releases) what it will not keep, and listens for
 * notifications: "work" (claim now), config changes to reload, and "own"
 * (deliveries given to this node's FIFO lanes). On a single node none of this
 * runs: the window reads the store directly (window.c).
 */
#include <stdlib.h>
#include <string.h>

#include "deliver/dispatcher_internal.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/log.h"

void cluster_init(struct dispatcher *d)
{
	struct engine *e = d->e;
	d->listen_fd = -1;
	if (!d->shared)
		return;
	/* Recovery with several nodes is claiming: what we owned before a crash
	 * comes back to us or to others once our old id is reaped. */
	d->claim_due = true;
	if (store_node_join(e->rstore, e->node, clock_now_ms()))
		log_warn("node_join_failed", "node=%s", e->node);
	d->listen_fd = store_listen_fd(e->rstore);
}

void cluster_release_later(void *ctx, int64_t seq)
{
	struct dispatcher *d = ctx;
	if (!array_reserve((void **)&d->release, &d->caprelease, d->nrelease + 1,
	                   sizeof(*d->release), 256))
		return; /* it stays ours; reaping frees it if we die */
	d->release[d->nrelease++] = seq;
}

/* drop_window: this node was declared dead while it was away: everything it
 * held is someone else's now. Forget it all (in-flight answers are written
 * only where we still own the delivery) and start again. */
static void drop_window(struct dispatcher *d, int64_t now)
{
	int dropped = sched_drop_all(&d->s, now);
	log_warn("node_reaped", "node=%s dropped=%d note=\"joining again\"", d->e->node, dropped);
}

void cluster_on_notify(void *ctx, const char *payload)
{
	struct dispatcher *d = ctx;
	int64_t now = clock_now_ms();
	if (strcmp(payload, "work") == 0) {
		d->claim_due = true;
	} else if (strncmp(payload, "webhook ", 8) == 0) {
		int64_t seq = strtoll(payload + 8, NULL, 10);
		if (registry_reload_webhook(d->e->reg, d->e->rstore, seq) == 0)
			sched_webhook_changed(&d->s, seq, now);
	} else if (strncmp(payload, "company ", 8) == 0) {
		registry_reload_company(d->e->reg, d->e->rstore, strtoll(payload + 8, NULL, 10));
	} else if (strncmp(payload, "route ", 6) == 0) {
		/* "route <company seq> <id>" */
		char *end;
		long long company = strtoll(payload + 6, &end, 10);
		if (*end == ' ')
			registry_reload_route(d->e->reg, d->e->rstore, company, end + 1);
	} else if (strncmp(payload, "source ", 7) == 0) {
		registry_reload_source(d->e->reg, d->e->rstore, strtoll(payload + 7, NULL, 10));
	} else if (strncmp(payload, "token ", 6) == 0) {
		registry_token_remove(d->e->reg, payload + 6); /* revoked on another node */
	} else if (strncmp(payload, "own ", 4) == 0) {
		const char *p = payload + 4;
		size_t nl = strlen(d->e->node);
		if (strncmp(p, d->e->node, nl) != 0 || p[nl] != ' ')
			return;
		p += nl;
		int64_t seqs[256];
		int n = 0;
		for (char *end; n < 256; p = end) {
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			if (v > 0)
				seqs[n++] = v;
		}
		struct store_task tasks[256];
		int got = 0;
		if (n && store_load_owned(d->e->rstore, d->e->node, seqs, n, tasks, &got) == 0)
			for (int i = 0; i < got; i++)
				sched_task_add(&d->s, &tasks[i], NULL, now);
	}
}

void cluster_upkeep(struct dispatcher *d, int64_t now)
{
	struct engine *e = d->e;
	int64_t mono = clock_mono_ms();
	if (mono >= d->next_beat) {
		d->next_beat = mono + 1000;
		int rc = store_node_beat(e->rstore, e->node, now);
		if (rc == GERR_NOTFOUND) {
			drop_window(d, now);
			store_node_join(e->rstore, e->node, now);
			d->claim_due = true;
		}
	}
	if (mono >= d->next_reap) {
		int n = 0;
		d->next_reap = mono + 5000;
		if (store_node_reap(e->rstore, now - e->cfg.node_timeout_ms, &n) == 0 && n > 0) {
			log_warn("nodes_reaped", "count=%d", n);
			d->claim_due = true;
		}
	}
	if (d->nrelease) {
		if (store_release(e->rstore, e->node, d->release, d->nrelease) == 0)
			d->nrelease = 0;
	}
	int window = e->cfg.window;
	if ((d->claim_due || mono >= d->next_claim) && d->s.ntasks < window / 2 + 1) {
		struct store_task page[SCHED_PAGE];
		int want = window - d->s.ntasks;
		if (want > SCHED_PAGE)
			want = SCHED_PAGE;
		int n = 0;
		d->next_claim = mono + 1000;
		if (store_claim(e->rstore, e->node, now + 1000, want, page, &n) == 0) {
			for (int i = 0; i < n; i++)
				sched_task_add(&d->s, &page[i], NULL, now);
			d->claim_due = n >= want;
		}
	}
}
