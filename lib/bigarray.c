#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bigarray.h"

static int mapped(size_t n)
{
	return n >= BIGARRAY_MAPPED;
}

void *bigarray_resize(void *p, size_t old, size_t n)
{
	void *q;

	if (!mapped(n)) {
		if (mapped(old)) {
			/* Shrinking back under: rare, a copy is fine. */
			if ((q = malloc(n ? n : 1)) == NULL)
				return NULL;
			memcpy(q, p, n);
			munmap(p, old);
			return q;
		}
		if ((q = realloc(p, n ? n : 1)) == NULL)
			return NULL;
		if (n > old)
			memset((char *)q + old, 0, n - old);
		return q;
	}
	if (mapped(old)) {
		q = mremap(p, old, n, MREMAP_MAYMOVE);
		return q == MAP_FAILED ? NULL : q;
	}
	q = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	         -1, 0);
	if (q == MAP_FAILED)
		return NULL;
	if (old > 0)
		memcpy(q, p, old);
	free(p);
	return q;
}

void bigarray_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	if (mapped(n))
		munmap(p, n);
	else
		free(p);
}
