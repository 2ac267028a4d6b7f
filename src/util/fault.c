/*
 * fault: see fault.h. The spec is parsed once into a small table; each entry
 * counts its hits atomically, since points are reached from several threads.
 */
#include "util/fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_MAX      8
#define FAULT_NAME_MAX 32

static struct fault {
	char name[FAULT_NAME_MAX];
	long at;    /* the hit that fails, from 1 */
	bool after; /* and every hit after it ("name:N+") */
	atomic_long hits;
} faults[FAULT_MAX];
static int nfaults;
static atomic_bool any;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fault_parse(void)
{
	const char *spec = getenv("GANCHO_FAULTS");
	while (spec && *spec && nfaults < FAULT_MAX) {
		size_t n = strcspn(spec, ",");
		size_t name_len = strcspn(spec, ":,");
		struct fault *f = &faults[nfaults];
		if (name_len > 0 && name_len < FAULT_NAME_MAX) {
			memcpy(f->name, spec, name_len);
			f->at = 1;
			if (name_len < n) {
				/* a count of at most 9 digits: no overflow, and 0 or junk means 1
				 */
				long at = 0;
				size_t k = name_len + 1, digits = 0;
				for (; k < n && spec[k] >= '0' && spec[k] <= '9' && digits < 9;
				     k++, digits++)
					at = at * 10 + (spec[k] - '0');
				f->at = at > 0 ? at : 1;
				f->after = k < n && spec[k] == '+';
			}
			nfaults++;
		}
		spec += n;
		if (*spec == ',')
			spec++;
	}
	atomic_store(&any, nfaults > 0);
}

bool fault_hit(const char *name)
{
	pthread_once(&once, fault_parse);
	if (!atomic_load_explicit(&any, memory_order_relaxed))
		return false;
	for (int i = 0; i < nfaults; i++)
		if (strcmp(faults[i].name, name) == 0) {
			long hit = atomic_fetch_add(&faults[i].hits, 1) + 1;
			return hit == faults[i].at || (faults[i].after && hit > faults[i].at);
		}
	return false;
}
