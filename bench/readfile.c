/* readfile: see readfile.h. */
#include "readfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct stat st;
	if (fstat(fileno(f), &st) < 0) {
		fclose(f);
		return NULL;
	}
	char *b = malloc((size_t)st.st_size + 1);
	size_t n = b ? fread(b, 1, (size_t)st.st_size, f) : 0;
	fclose(f);
	if (!b || n != (size_t)st.st_size) {
		free(b);
		return NULL;
	}
	b[n] = '\0';
	*len = n;
	return b;
}
