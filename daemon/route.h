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

/* What state each delivery of id (a post or one delivery) is in now:
 * {delivery: state name}, {} if there is no such id, NULL if unreadable. */
json_t *route_states(struct cmd_ctx *x, const char *id);

/*
 * What runs a command on one delivery, or on every delivery of a post,
 * here: CMD_DONE with its result in *x->result, or CMD_ERROR.
 */
typedef enum cmd_retval route_here_fn(struct cmd_ctx *x, const char *id);

/*
 * cmd on id (a post or one delivery), each delivery run where its
 * channel is fired, for those in a state of states (DS_BIT()s): here(x,
 * delivery) for this node's, cmd with {"id": delivery} sent to the node
 * that fires each other one. The parts' results are lists under key
 * (cancel's "cancelled"), joined into one reply with the other fields
 * of the first part to answer. A part refused with SMM_ERR_CONFLICT (nothing
 * left to do there) is no error if another part did something. A part the other
 * node answers SMM_ERR_NOT_FOUND (its view, up to a beat behind, has
 * not read the delivery yet, so it cannot be firing it) is done here,
 * for the same peer. When no delivery in states is another node's:
 * here(x, id), as on one node. CMD_DONE, CMD_ERROR, or CMD_WAIT with x's
 * later finished once every part has answered.
 */
enum cmd_retval route_split(struct cmd_ctx *x, const char *id, const char *cmd,
                            const char *key, unsigned states,
                            route_here_fn *here);

#endif
