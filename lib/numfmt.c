#include <stdio.h>

#include "numfmt.h"

size_t numfmt_i64(char dst[NUMFMT_I64_LEN], int64_t v)
{
	char tmp[NUMFMT_I64_LEN];
	/* Negated as unsigned: -INT64_MIN does not fit an int64_t. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		dst[len++] = '-';
	while (n > 0)
		dst[len++] = tmp[--n];
	dst[len] = '\0';
	return len;
}

size_t numfmt_tenths(char dst[NUMFMT_TENTHS_LEN], double v)
{
	int64_t t;
	size_t n;

	/* Exact in an int64_t well past any latency; the rest (and NaN)
	 * as printf has it. */
	if (!(v > -1e15 && v < 1e15))
		return (size_t)snprintf(dst, NUMFMT_TENTHS_LEN, "%.1f", v);
	t = (int64_t)(v * 10 + (v < 0 ? -0.5 : 0.5));
	n = 0;
	if (t < 0 || (t == 0 && v < 0)) {
		dst[n++] = '-';
		t = -t;
	}
	n += numfmt_i64(dst + n, t / 10);
	dst[n++] = '.';
	dst[n++] = (char)('0' + t % 10);
	dst[n] = '\0';
	return n;
}
