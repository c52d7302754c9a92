/*
 * Holiday calendars: a country's public holidays, or a team's days off,
 * exported as an iCalendar file (RFC 5545) from any calendar application
 * and read with libical. Each event becomes a blackout.
 */
#ifndef SMMD_HOLIDAYS_H
#define SMMD_HOLIDAYS_H

#include <stddef.h>
#include <stdint.h>

#include "blackout.h"

/*
 * Append every VEVENT of the file at path to out, recurring ones (RRULE,
 * RDATE, EXDATE) expanded over [from_ms, to_ms). An all-day or floating
 * event is local, read in each channel's own zone; one with a TZID or in
 * UTC is the same instant everywhere. Events whose SUMMARY is one of
 * except are left out (a holiday this team works on); naming one the
 * file does not have is an error, as it is a typo more often than not.
 * Returns how many events were read, or -1 with why in err.
 */
int holidays_load(const char *path, int64_t from_ms, int64_t to_ms,
                  const char *const *except, size_t nexcept,
                  struct blackouts *out, char *err, size_t errlen);

/*
 * How far back and ahead of each (re)load smmd.yaml's and the calendar's
 * holiday files are expanded: a year's past for what is late, five years
 * ahead for what is planned.
 */
#define HOLIDAYS_BACK_MS  (INT64_C(400) * 86400 * 1000)
#define HOLIDAYS_AHEAD_MS (INT64_C(5) * 366 * 86400 * 1000)

#endif
