/*
 * Deliveries left "publishing" by a node that stopped while their request
 * was in flight: each is made due again with the same webhook-id where
 * its endpoint drops repeats, else marked unknown (told, never re-sent).
 * At the start for what this node left, and on a cluster also when this
 * node takes over a channel another node fired (claims): what that node
 * left on it.
 */
#ifndef SMMD_RECOVER_H
#define SMMD_RECOVER_H

#include <jansson.h>

struct smmd;

/*
 * At the start: every delivery left publishing, but those on a channel
 * in leave, which another live node owns (it may be sending them;
 * store_owned_elsewhere). 0 or -errno.
 */
int recover_at_start(struct smmd *, json_t *leave);
/*
 * This node now fires channel, which another node fired: what that node
 * left publishing on it is recovered once this node's view has read
 * what was committed at the take, all it wrote (a node that let go
 * finished its requests first; a dead one did not).
 */
void recover_taken(struct smmd *, const char *channel);
/* Shutdown: nothing more is recovered by this run. */
void recover_stop(struct smmd *);

#endif
