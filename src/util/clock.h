/*
 * clock: the one source of time in gancho.
 *
 * Everything that needs "now" calls clock_now_ms() (wall clock, ms since the
 * epoch, what is stored and shown) or clock_mono_ms()/clock_mono_us() (for
 * latencies and timers). Tests may shift the wall clock with clock_set_offset_ms.
 */
#ifndef GANCHO_UTIL_CLOCK_H
#define GANCHO_UTIL_CLOCK_H

#include <stdint.h>

int64_t clock_now_ms(void);
int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);
void clock_set_offset_ms(int64_t offset);

#endif
