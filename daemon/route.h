/*
 * Commands on a delivery, on a store shared with workers (doc/cluster.md,
 * step 3): the node that fires the delivery's channel runs them, since
 * only it can withdraw a job it has prepared, and so no two nodes write
 * one delivery row (two would have one of their groups refused, which
 * restarts that node in place). The request goes through the store
 * (store_relay with the channel) and runs there as routed: it is never
 * sent on again, whoever owns the channel by then.
 */
#ifndef SMMD_ROUTE_H
#define SMMD_ROUTE_H

#include <jansson.h>

#include "command.h"

/*
 * Whether a command on a delivery of channel, run by x, goes to another
 * node: the store is shared, the request was not routed here already,
 * and this node does not fire channel now. 1 or 0.
 */
int route_away(const struct cmd_ctx *x, const char *channel);
/* Whether x may send anything on (route_away's first two). */
int route_may(const struct cmd_ctx *x);

/*
 * Run cmd with args on the node that fires channel (the working node if
 * none does); its reply, or why not, finishes x. CMD_WAIT or CMD_ERROR.
 */
enum cmd_retval route_command(struct cmd_ctx *x, const char *cmd,
                              const json_t *args, const char *channel);

/*
 * A command on several deliveries, each run where its channel is fired,
 * whose results are lists under one key (cancel's "cancelled"): the
 * lists are joined into one reply. route_fan_new; route_fan_send for
 * each delivery another node fires, route_fan_add for what this node did
 * itself (a result it gives away, or NULL with an error); then
 * route_fan_done, which returns the joined reply when every part has
 * answered already (CMD_DONE, CMD_ERROR), else CMD_WAIT, and x's later
 * is finished once they have. A part refused with SMM_ERR_CONFLICT
 * (nothing left to do there) is no error if another part did something.
 *
 * A part the other node answers SMM_ERR_NOT_FOUND (its view, up to a
 * beat behind, has not read the delivery yet, so it cannot be firing
 * it) is run here by local, with a context of its own: its result, or
 * NULL with code and msg set.
 */
typedef json_t *route_local_fn(struct cmd_ctx *, const char *id);
struct route_fan;
struct route_fan *route_fan_new(struct cmd_ctx *x, const char *key,
                                route_local_fn *local);
void route_fan_send(struct route_fan *, struct cmd_ctx *x, const char *cmd,
                    const json_t *args, const char *channel);
void route_fan_add(struct route_fan *, json_t *result, const char *code,
                   const char *msg);
enum cmd_retval route_fan_done(struct cmd_ctx *x, struct route_fan *);

#endif
