/*
 * Time and duration parsing and formatting. Pure: the current time is passed
 * in, never read, so every form is unit-testable.
 * All instants are milliseconds since the Unix epoch, UTC.
 */
#ifndef SMM_TIMEPARSE_H
#define SMM_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

/* Big enough for "2026-11-22T10:00:00.000Z" and a NUL. */
#define TIME_RFC3339_LEN 32

/*
 * Parse a user-supplied time into *out_ms. Accepted forms:
 *   ISO 8601 / RFC 3339 with offset or Z: 2026-11-22T10:00:00Z,
 *     2026-11-22T10:00:00.250+01:00, 2026-11-22 10:00:00Z, 2026-11-22T10:00Z
 *   local wall time (in the process's TZ, via mktime):
 *     "2026-11-22 10:00", "2026-11-22 10:00:30", "2026-11-22T10:00[:30]"
 *   relative to now_ms: "+90s", "+10m", "+2h", "+1d", "+500ms", "now"
 * Returns 0, or -1 with a short reason written to err (errlen bytes).
 */
int time_parse(const char *s, int64_t now_ms, int64_t *out_ms, char *err,
               size_t errlen);

/*
 * Parse an RFC 3339 UTC-or-offset timestamp only (what the wire carries).
 * Returns 0 or -1.
 */
int time_parse_rfc3339(const char *s, int64_t *out_ms);

/* Days in a month (1-12) of a Gregorian year. */
int time_days_in_month(int year, int month);
/*
 * Whether year-month-day is a date a schedule may use (years 1970-9999).
 * Returns 0, or -1 with the reason written to err.
 */
int time_check_date(int year, int month, int day, char *err, size_t errlen);

/*
 * Parse a date bound: a bare date YYYY-MM-DD means the local midnight that
 * begins that day (or, when a daylight saving change skips that midnight,
 * the first instant the day has); anything else is a TIME for time_parse.
 * Returns 0, or -1 with a short reason written to err.
 */
int time_parse_date(const char *s, int64_t now_ms, int64_t *out_ms, char *err,
                    size_t errlen);

/* Format ms as "2026-11-22T10:00:00.000Z" into buf (TIME_RFC3339_LEN). */
char *time_format_rfc3339(int64_t ms, char *buf);

/* Format ms as local "2026-11-22 11:00:00" (process TZ) into buf (32). */
char *time_format_local(int64_t ms, char *buf);

/*
 * Parse a duration: "250ms", "10s", "2m", "1h", "1d", or a bare integer
 * meaning seconds. Whitespace is not allowed. Returns 0 or -1.
 */
int duration_parse(const char *s, int64_t *out_ms);

/* Format a duration compactly: "250ms", "10s", "2m30s", "1h". buf >= 32. */
char *duration_format(int64_t ms, char *buf, size_t len);

#endif
