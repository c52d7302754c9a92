/*
 * The agenda as an RFC 5545 iCalendar, for a calendar application to
 * import: one VEVENT per delivery. Pure: the DTSTAMP instant is passed in,
 * nothing is read from the clock or the environment.
 */
#ifndef SMM_ICS_H
#define SMM_ICS_H

#include <jansson.h>
#include <stdint.h>

/* Longest content line, in octets, before it is folded (RFC 5545 3.1). */
#define ICS_LINE_MAX 75

/*
 * Render deliveries as the agenda command returns them with "full": true
 * (id, channel, state, due, text, full_text, link, remote_url) into one
 * VCALENDAR: CRLF line ends, TEXT values escaped, lines folded at
 * ICS_LINE_MAX octets without splitting a UTF-8 sequence.
 *
 * Each delivery is a VEVENT with UID "<delivery id>@smmd", DTSTART its due
 * time in UTC, DURATION PT5M and SUMMARY "[state] channel: first line".
 * Deliveries on their way (retry_wait, publishing) are labelled
 * "scheduled"; cancelled ones are left out; every other state (published,
 * failed, missed, ...) is kept under its own name, so a calendar shows the
 * gap where a post did not go out. STATUS is TENTATIVE until published,
 * CONFIRMED once published, absent for the rest.
 *
 * Returns a malloc'd string, or NULL with errno ENOMEM, or EINVAL when a
 * delivery lacks its id or state or has no valid due time.
 */
char *ics_render(const json_t *deliveries, int64_t now_ms);

#endif
