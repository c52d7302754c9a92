/* ctl_out: what smmctl prints: JSON, sanitised text, cells and times. */
#include <errno.h>
#include <getopt.h>
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
void ctl_put_textn(FILE *out, const char *s, size_t n, int oneline, int indent)
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

/* Number of UTF-8 code points in s: an approximation of display width. */
size_t ctl_width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/*
 * Byte length of the longest prefix of s that holds at most `cols` code
 * points, never cutting a UTF-8 sequence in two.
 */
size_t ctl_prefix_bytes(const char *s, size_t cols)
{
	size_t i, n = 0;

	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (n == cols)
				break;
			n++;
		}
	}
	return i;
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
 * The next code point of UTF-8 s (n bytes left), and its length in *len.
 * A malformed byte counts as one code point of its own.
 */
uint32_t ctl_utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t cp = s[0];
	size_t k, want = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0;

	*len = 1;
	if (want == 0)
		return cp;
	if (want == 1)
		want = 2;
	if (want > n)
		return 0xfffd;
	cp = s[0] & (0x7f >> want);
	for (k = 1; k < want; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0xfffd;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	*len = want;
	return cp;
}

/*
 * Columns a code point takes in a terminal: 0 for combining marks, 2 for
 * East Asian wide characters and emoji, else 1. An approximation of
 * wcwidth that does not depend on the locale smmctl runs in.
 */
int ctl_cp_width(uint32_t cp)
{
	if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0xfe00 && cp <= 0xfe0f))
		return 0;
	if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x2600 && cp <= 0x27bf) ||
	    (cp >= 0x1f300 && cp <= 0x1faff) ||
	    (cp >= 0x20000 && cp <= 0x3fffd))
		return 2;
	return 1;
}

/*
 * Byte length of the longest prefix of s that fits in cols terminal
 * columns, never cutting a UTF-8 sequence; its width goes to *width.
 */
size_t ctl_fit(const char *s, size_t cols, size_t *width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n = strlen(s), len, w = 0;
	int cw;

	while (i < n) {
		cw = ctl_cp_width(ctl_utf8_next(p + i, n - i, &len));
		if (w + (size_t)cw > cols)
			break;
		w += (size_t)cw;
		i += len;
	}
	*width = w;
	return i;
}

/*
 * Print s in exactly cols columns: cut with "..." when it is wider,
 * padded with spaces (unless pad is 0) when narrower.
 */
void ctl_put_cell(const char *s, size_t cols, int pad)
{
	size_t w, n = ctl_fit(s, cols, &w);

	if (n < strlen(s) && cols >= 3) {
		n = ctl_fit(s, cols - 3, &w);
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
