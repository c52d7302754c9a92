#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ics.h"
#include "text.h"
#include "timeparse.h"

/* What the calendar says of each state; a state not listed shows as is. */
static const struct {
	const char *state;
	const char *label;  /* in the SUMMARY's brackets */
	const char *status; /* STATUS, or NULL for none */
} ics_states[] = {
        {"scheduled", "scheduled", "TENTATIVE"},
        {"retry_wait", "scheduled", "TENTATIVE"},
        {"publishing", "scheduled", "TENTATIVE"},
        {"held", "held", "TENTATIVE"},
        {"published", "published", "CONFIRMED"},
};

/* A growing string; after a failed allocation it only remembers that. */
struct ics_buf {
	char *p;
	size_t len;
	size_t cap;
	int oom;
};

static void buf_put(struct ics_buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->cap - b->len <= n) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap - b->len <= n)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_puts(struct ics_buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/*
 * A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped,
 * every line break (LF, CRLF or CR) as "\n". Other control characters
 * cannot appear in a content line and become spaces; a tab may stay.
 */
static void put_textn(struct ics_buf *b, const char *s, size_t n)
{
	const char *end = s + n;

	for (; s < end; s++) {
		switch (*s) {
		case '\\':
			buf_puts(b, "\\\\");
			break;
		case ';':
			buf_puts(b, "\\;");
			break;
		case ',':
			buf_puts(b, "\\,");
			break;
		case '\r':
			if (s + 1 < end && s[1] == '\n')
				s++;
			buf_puts(b, "\\n");
			break;
		case '\n':
			buf_puts(b, "\\n");
			break;
		default:
			if (((unsigned char)*s < 0x20 && *s != '\t') ||
			    *s == 0x7f)
				buf_put(b, " ", 1);
			else
				buf_put(b, s, 1);
		}
	}
}

static void put_text(struct ics_buf *b, const char *s)
{
	put_textn(b, s, strlen(s));
}

/*
 * Append one content line, folded: a line longer than ICS_LINE_MAX octets
 * continues on the next after CRLF and one space (which counts towards the
 * limit), and a UTF-8 sequence is never cut in two, so each physical line
 * stays valid UTF-8.
 */
static void put_folded(struct ics_buf *out, const char *line, size_t len)
{
	size_t i = 0, col = 0, n;

	while (i < len) {
		utf8_next(line + i, len - i, &n);
		if (col + n > ICS_LINE_MAX) {
			buf_put(out, "\r\n ", 3);
			col = 1;
		}
		buf_put(out, line + i, n);
		col += n;
		i += n;
	}
	buf_put(out, "\r\n", 2);
}

/* Emit the line being built in *line, then empty it for the next. */
static void flush_line(struct ics_buf *out, struct ics_buf *line)
{
	if (line->oom)
		out->oom = 1;
	else if (line->len > 0)
		put_folded(out, line->p, line->len);
	line->len = 0;
}

/* "NAME:value" with value already in its wire form. */
static void put_raw(struct ics_buf *out, struct ics_buf *line, const char *name,
                    const char *value)
{
	buf_puts(line, name);
	buf_put(line, ":", 1);
	buf_puts(line, value);
	flush_line(out, line);
}

/* A UTC DATE-TIME, "20261123T090000Z"; seconds are whole (rounded down). */
static int ics_time(int64_t ms, char out[32])
{
	int64_t sec = ms / 1000 - (ms % 1000 < 0);
	time_t t = (time_t)sec;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 0 ||
	    tm.tm_year + 1900 > 9999)
		return -1;
	snprintf(out, 32, "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900,
	         tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}

/*
 * A URL fit to be a URI value as is: printable ASCII, no space. Anything
 * else (it came from a network's reply) stays in the description only,
 * where it is escaped as text.
 */
static int uri_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static const char *member(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* One VEVENT; -1 when the delivery lacks what an event needs. */
static int put_event(struct ics_buf *out, struct ics_buf *line, const json_t *d,
                     const char *stamp)
{
	const char *id = member(d, "id"), *state = member(d, "state");
	const char *due = member(d, "due"), *channel = member(d, "channel");
	const char *text = member(d, "text"), *full = member(d, "full_text");
	const char *link = member(d, "link"), *url = member(d, "remote_url");
	const char *label, *status = NULL;
	char start[32];
	int64_t due_ms;
	size_t i;

	if (id == NULL || state == NULL || due == NULL ||
	    time_parse_rfc3339(due, &due_ms) < 0 || ics_time(due_ms, start) < 0)
		return -1;
	if (strcmp(state, "cancelled") == 0)
		return 0;
	label = state;
	for (i = 0; i < sizeof(ics_states) / sizeof(ics_states[0]); i++)
		if (strcmp(state, ics_states[i].state) == 0) {
			label = ics_states[i].label;
			status = ics_states[i].status;
		}
	if (channel == NULL)
		channel = "?";
	if (full == NULL)
		full = text ? text : "";

	buf_puts(out, "BEGIN:VEVENT\r\n");
	/* The delivery id is stable: importing again updates, not doubles. */
	buf_puts(line, "UID:");
	put_text(line, id);
	buf_puts(line, "@smmd");
	flush_line(out, line);
	put_raw(out, line, "DTSTAMP", stamp);
	put_raw(out, line, "DTSTART", start);
	put_raw(out, line, "DURATION", "PT5M");
	/* A post takes nobody's time: never "busy" in a free/busy view. */
	put_raw(out, line, "TRANSP", "TRANSPARENT");

	buf_puts(line, "SUMMARY:[");
	put_text(line, label);
	buf_puts(line, "] ");
	put_text(line, channel);
	buf_puts(line, ": ");
	/* smmd's summary if it sent one, else the full text; one line. */
	if (text == NULL)
		text = full;
	put_textn(line, text, strcspn(text, "\r\n"));
	flush_line(out, line);

	buf_puts(line, "DESCRIPTION:");
	put_text(line, full);
	if (link) {
		buf_puts(line, "\\n\\nLink: ");
		put_text(line, link);
	}
	if (url) {
		buf_puts(line, link ? "\\n" : "\\n\\n");
		buf_puts(line, "Published: ");
		put_text(line, url);
	}
	buf_puts(line, "\\n\\nDelivery: ");
	put_text(line, id);
	flush_line(out, line);

	buf_puts(line, "CATEGORIES:");
	put_text(line, channel);
	flush_line(out, line);
	if (status)
		put_raw(out, line, "STATUS", status);
	if (url && strcmp(state, "published") == 0 && uri_ok(url))
		put_raw(out, line, "URL", url);
	buf_puts(out, "END:VEVENT\r\n");
	return 0;
}

char *ics_render(const json_t *deliveries, int64_t now_ms)
{
	struct ics_buf out = {0}, line = {0};
	char stamp[32];
	const json_t *d;
	size_t i;

	if (!json_is_array(deliveries) || ics_time(now_ms, stamp) < 0) {
		errno = EINVAL;
		return NULL;
	}
	/*
	 * No METHOD: a file to import is not an iTIP message, and
	 * METHOD:PUBLISH would oblige every event to name an ORGANIZER.
	 */
	buf_puts(&out, "BEGIN:VCALENDAR\r\n"
	               "VERSION:2.0\r\n"
	               "PRODID:-//smmd//smmd deliveries//EN\r\n"
	               "CALSCALE:GREGORIAN\r\n"
	               "X-WR-CALNAME:smmd\r\n");
	json_array_foreach (deliveries, i, d) {
		if (put_event(&out, &line, d, stamp) < 0) {
			free(out.p);
			free(line.p);
			errno = EINVAL;
			return NULL;
		}
	}
	buf_puts(&out, "END:VCALENDAR\r\n");
	free(line.p);
	if (out.oom || line.oom) {
		free(out.p);
		errno = ENOMEM;
		return NULL;
	}
	return out.p;
}
