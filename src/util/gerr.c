/* gerr: see gerr.h. */
#include "util/gerr.h"

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
