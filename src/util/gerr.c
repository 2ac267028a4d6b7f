/* gerr: see gerr.h. */
#include "util/gerr.h"
#include "util/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int gerr_set(struct gerr *err, int rc, int status, const char *code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->status = status;
		snprintf(err->code, sizeof(err->code), "%s", code);
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return rc;
}

int gerr_invalid_text(struct gerr *err, const char *field, const char *s, size_t n, const char *why)
{
	char q[UTF8_EXCERPT_SIZE];
	utf8_ascii_excerpt(s, n, q);
	return gerr_set(err, GERR_INVALID, 400, "invalid_field", "%s%s\"%s\" %s",
	                field ? field : "", field ? ": " : "", q, why);
}
