/*
 * civil: proleptic Gregorian calendar arithmetic, exact in integers.
 *
 * Howard Hinnant's days_from_civil / civil_from_days algorithms: no timegm or
 * gmtime, which read the TZ machinery and are not exact for every year on
 * every libc. Used wherever gancho reads or writes a date (the envelope,
 * received event dates, Retry-After's HTTP date).
 */
#ifndef GANCHO_UTIL_CIVIL_H
#define GANCHO_UTIL_CIVIL_H

#include <stdint.h>

/* civil_days_from_ymd: days since 1970-01-01 of y-m-d (m 1..12, d 1..31). */
int64_t civil_days_from_ymd(int64_t y, int m, int d);
/* civil_ymd_from_days: the date of day z (days since 1970-01-01). */
void civil_ymd_from_days(int64_t z, int64_t *y, int *m, int *d);

#endif
