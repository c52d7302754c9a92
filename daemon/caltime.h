/*
 * The calendar's times: parsing what people write in a calendar file, and
 * converting wall-clock times in an IANA zone to UTC and back, with the
 * system tz database (/usr/share/zoneinfo, read through libical). Pure: no
 * clock is read and the process's TZ is never touched, so a reload cannot
 * disturb the rest of smmd.
 */
#ifndef SMMD_CALTIME_H
#define SMMD_CALTIME_H

#include <stddef.h>
#include <stdint.h>

/* The fields of a calendar time, before any zone is applied. */
struct caltime_civil {
	int year, mon, day, hour, min, sec;
	int has_time;   /* 0: a date only ("2026-11-22") */
	int has_zone;   /* Z or an offset was given: not a local time */
	int offset_min; /* east of UTC, when has_zone */
};

/* A zone of the tz database; opaque (libical's icaltimezone). */
struct caltime_zone;

/*
 * Parse "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (or with 'T'), and the
 * latter followed by "Z" or "±HH:MM". Returns 0, or -1 with a short reason
 * in err.
 */
int caltime_parse(const char *s, struct caltime_civil *out, char *err,
                  size_t errlen);

/* The zone called name ("Europe/Madrid", "UTC"), or NULL if unknown. */
const struct caltime_zone *caltime_zone(const char *name);

/*
 * The zone the system runs in, when a calendar names none: $TZ, else
 * /etc/timezone, else the target of /etc/localtime, else "UTC". Returns a
 * string the caller frees, or NULL when out of memory.
 */
char *caltime_system_zone_name(void);

/* Seconds east of UTC in zone z at UTC instant utc_s. */
int caltime_utc_offset(const struct caltime_zone *z, int64_t utc_s);

/*
 * Wall time in z -> UTC seconds (RFC 5545's answers: a time in a gap is
 * read with the offset before the gap; a time that happens twice is the
 * first of the two).
 */
int64_t caltime_local_to_utc(const struct caltime_zone *z, int year, int mon,
                             int day, int hour, int min, int sec);

/* UTC seconds -> wall time in z (has_time set, has_zone clear). */
void caltime_utc_to_local(const struct caltime_zone *z, int64_t utc_s,
                          struct caltime_civil *out);

/* Days from 1970-01-01 to a proleptic Gregorian date (may be negative). */
int64_t caltime_days(int year, int mon, int day);

/*
 * Seconds of wall-clock time since 1970-01-01 00:00 of a civil time, as if
 * its zone were UTC (its offset, if any, is not applied).
 */
int64_t caltime_wall_s(const struct caltime_civil *);

/* The inverse of caltime_days. */
void caltime_civil_from_days(int64_t days, int *year, int *mon, int *day);

#endif
