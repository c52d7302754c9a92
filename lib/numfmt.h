/*
 * Integers in decimal, without printf: each delivery's log line, webhook
 * body, signature and verdict hold a few, and snprintf's format parsing
 * cost more than the rest of building them.
 */
#ifndef SMM_NUMFMT_H
#define SMM_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any int64_t in decimal, its sign and the NUL. */
#define NUMFMT_I64_LEN 21

/* v in decimal into dst (NUL-terminated), as "%lld" would: its length. */
size_t numfmt_i64(char dst[NUMFMT_I64_LEN], int64_t v);

/* Room for numfmt_tenths's any: "%.1f" of a double can be 300 digits. */
#define NUMFMT_TENTHS_LEN 320

/*
 * v with one decimal, as "%.1f" would, but that a tie (1.25) goes up
 * rather than to the even digit: a latency, where no one minds.
 */
size_t numfmt_tenths(char dst[NUMFMT_TENTHS_LEN], double v);

#endif
