/*
 * buf: a growable byte buffer, always NUL-terminated for convenience.
 *
 * Used to assemble HTTP bodies, envelopes and JSON answers without
 * counting bytes by hand. On allocation failure the buffer marks itself
 * failed (b->oom) and later appends are no-ops, so callers check once.
 */
#ifndef GANCHO_UTIL_BUF_H
#define GANCHO_UTIL_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
bool buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* buf_json_str appends s (n bytes, UTF-8) as a quoted, escaped JSON string;
 * bytes that are not UTF-8 become U+FFFD, so the result is always valid. */
void buf_json_str(struct buf *b, const char *s, size_t n);
/* buf_steal hands the bytes to the caller (free() them) and resets b. */
char *buf_steal(struct buf *b, size_t *len);

#endif
