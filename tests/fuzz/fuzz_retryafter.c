/*
 * Retry-After as endpoints send it (lib/backoff.c): delta-seconds or an
 * HTTP-date in its three forms. A value it accepts is never a negative
 * wait, whatever the clock says.
 */
#include <stdio.h>
#include <stdlib.h>

#include "backoff.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The clocks a server's date is read against: now, 1970, far on. */
	static const int64_t nows[] = {INT64_C(1795341600000), 0,
	                               INT64_C(253402300799000)};
	char *s = fuzz_cstr(data, size);

	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		int64_t delay = -1;

		if (retry_after_parse(s, nows[i], &delay) == 0 && delay < 0) {
			fprintf(stderr, "'%s': a wait of %lld ms\n", s,
			        (long long)delay);
			abort();
		}
	}
	free(s);
	return 0;
}
