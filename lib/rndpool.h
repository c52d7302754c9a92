#ifndef SMM_RNDPOOL_H
#define SMM_RNDPOOL_H

#include <stddef.h>

/*
 * Kernel randomness a block at a time: one getrandom(2) per
 * sizeof(buf) bytes, not one per draw. smmd draws 8 bytes for each new
 * webhook id and 4 for each retry's jitter; a syscall each cost more
 * than the rest of the draw on a burst's hot path.
 */
struct rndpool {
	unsigned char buf[4096];
	size_t used; /* bytes of buf already handed out */
};

void rndpool_init(struct rndpool *);
/*
 * n bytes (at most sizeof(buf)) into out. grnd_flags go to getrandom
 * (GRND_NONBLOCK: fail rather than wait for an unseeded kernel). 0, or
 * -1 with errno when the kernel gave none; out is then untouched.
 */
int rndpool_get(struct rndpool *, void *out, size_t n, unsigned grnd_flags);

#endif
