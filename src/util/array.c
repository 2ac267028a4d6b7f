/* array: see array.h. */
#include "util/array.h"

#include <stdlib.h>

bool array_reserve(void **arr, int *cap, int need, size_t elem, int first)
{
	if (need <= *cap)
		return true;
	int n = *cap ? *cap : first;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, (size_t)n * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = n;
	return true;
}
