/*
 * readfile: a whole file in memory, for the benchmark programs' bodies.
 */
#ifndef GANCHO_BENCH_READFILE_H
#define GANCHO_BENCH_READFILE_H

#include <stddef.h>

/* read_file: the bytes of path, NUL-terminated (free() them); *len gets their
 * count. NULL when the file cannot be read whole. */
char *read_file(const char *path, size_t *len);

#endif
