/*
 * array: growing a plain C array by doubling, the one way the engine does it.
 */
#ifndef GANCHO_UTIL_ARRAY_H
#define GANCHO_UTIL_ARRAY_H

#include <stdbool.h>
#include <stddef.h>

/* array_reserve: make *arr (elements of elem bytes, capacity *cap) hold at
 * least need elements, doubling from first. False when memory runs out; then
 * *arr and *cap are unchanged. */
bool array_reserve(void **arr, int *cap, int need, size_t elem, int first);

#endif
