/* Kernel randomness drawn a block at a time (rndpool.h). */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "rndpool.h"

void rndpool_init(struct rndpool *p)
{
	p->used = sizeof(p->buf);
}

int rndpool_get(struct rndpool *p, void *out, size_t n, unsigned grnd_flags)
{
	if (n > sizeof(p->buf)) {
		errno = EINVAL;
		return -1;
	}
	if (sizeof(p->buf) - p->used < n) {
		ssize_t got = getrandom(p->buf, sizeof(p->buf), grnd_flags);

		/* A short read leaves the pool empty: never reuse bytes. */
		if (got != (ssize_t)sizeof(p->buf)) {
			if (got >= 0)
				errno = EAGAIN;
			p->used = sizeof(p->buf);
			return -1;
		}
		p->used = 0;
	}
	memcpy(out, p->buf + p->used, n);
	/* Handed out once: wipe it, so a later leak of the pool shows none. */
	memset(p->buf + p->used, 0, n);
	p->used += n;
	return 0;
}
