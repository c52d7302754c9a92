/*
 * ctl_out: what smmctl prints: JSON, sanitised text, times, and cells cut
 * and padded in terminal columns (lib/text), the one width engine of
 * every table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"
#include "text.h"
#include "timeparse.h"

/* Print a JSON document for scripts: indented, one document, one newline. */
int ctl_print_json(const json_t *v)
{
	if (json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY) == -1)
		return EX_IOERR;
	fputc('\n', stdout);
	return 0;
}

/* A string member or NULL (absent, null or not a string). */
const char *ctl_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* An integer member, 0 when absent or not an integer. */
long long ctl_int(const json_t *obj, const char *key)
{
	return (long long)json_integer_value(json_object_get(obj, key));
}

/*
 * Format a wire timestamp as local time "2026-11-22 11:00:05" into buf
 * (32 bytes); unparsable values are shown as they came, absent ones as "-".
 */
const char *ctl_local_time(const char *rfc3339, char *buf)
{
	int64_t ms;

	if (rfc3339 == NULL)
		return "-";
	if (time_parse_rfc3339(rfc3339, &ms) != 0)
		return rfc3339;
	return time_format_local(ms, buf);
}

/*
 * Write s to out with control characters replaced, so text queued by
 * someone else cannot drive the terminal. With oneline, newlines and tabs
 * become spaces; otherwise a newline continues on a line indented by
 * `indent` columns.
 */
static void ctl_put_textn(FILE *out, const char *s, size_t n, int oneline,
                          int indent)
{
	const unsigned char *p, *end = (const unsigned char *)s + n;

	for (p = (const unsigned char *)s; p < end; p++) {
		if (*p == '\n' && !oneline)
			fprintf(out, "\n%*s", indent, "");
		else if (*p == '\t' || *p == '\n' || *p == '\r')
			fputc(' ', out);
		else if (*p < 0x20 || *p == 0x7f)
			fputc('?', out);
		else
			fputc(*p, out);
	}
}

void ctl_put_text(FILE *out, const char *s, int oneline, int indent)
{
	ctl_put_textn(out, s, strlen(s), oneline, indent);
}

/* Terminal columns s takes: the one width every table counts in. */
size_t ctl_cols(const char *s)
{
	size_t w;

	text_fit_cols(s, strlen(s), SIZE_MAX, &w);
	return w;
}

/* Width of the terminal on stdout, or 80 when it is not a terminal. */
int ctl_columns(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

/*
 * Print s in exactly cols columns: cut with "..." when it is wider,
 * padded with spaces (unless pad is 0) when narrower.
 */
void ctl_put_cell(const char *s, size_t cols, int pad)
{
	size_t w, len = strlen(s), n = text_fit_cols(s, len, cols, &w);

	if (n < len && cols >= 3) {
		n = text_fit_cols(s, len, cols - 3, &w);
		ctl_put_textn(stdout, s, n, 1, 0);
		fputs("...", stdout);
		w += 3;
	} else {
		ctl_put_textn(stdout, s, n, 1, 0);
	}
	if (pad && w < cols)
		printf("%*s", (int)(cols - w), "");
}

/* One "label  value" line of show, the value sanitised. */
void ctl_field(int indent, const char *label, const char *value)
{
	printf("%*s%-14s", indent, "", label);
	ctl_put_text(stdout, value ? value : "-", 0, indent + 14);
	fputc('\n', stdout);
}

/* A latency in ms as "12 ms", "1.2 ms" or "3.40 s". */
const char *ctl_latency(const json_t *v, char *buf, size_t len)
{
	double ms;

	if (!json_is_number(v))
		return "-";
	ms = json_number_value(v);
	if (ms >= 1000)
		snprintf(buf, len, "%.2f s", ms / 1000);
	else if (json_is_integer(v) || ms >= 100)
		snprintf(buf, len, "%.0f ms", ms);
	else
		snprintf(buf, len, "%.1f ms", ms);
	return buf;
}

/* "in 2m", "3s ago": how far an instant is from now, to the second. */
const char *ctl_relative(int64_t ms, int64_t now, char *buf, size_t len)
{
	int64_t delta = ms - now, abs_s;
	char d[32];

	abs_s = (delta < 0 ? -delta : delta + 999) / 1000;
	if (abs_s == 0)
		return "now";
	duration_format(abs_s * 1000, d, sizeof(d));
	snprintf(buf, len, delta < 0 ? "%s ago" : "in %s", d);
	return buf;
}
