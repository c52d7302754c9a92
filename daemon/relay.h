/*
 * A standby's commands that only the working node can run, relayed to it
 * through the shared store (pgrelay.h): the standby's side turns the
 * request back into a line and answers its client with the reply; the
 * working node's side runs each line as a client connected as the same
 * peer would, and hands the reply back once what it did is stored.
 */
#ifndef SMMD_RELAY_H
#define SMMD_RELAY_H

#include "command.h"

struct proto_request;

/* On a standby: relay req for x's client; CMD_WAIT, or CMD_ERROR. */
enum cmd_retval relay_command(struct cmd_ctx *x,
                              const struct proto_request *req);
/* On the working node: run what standbys relay from now on. */
void relay_serve(struct smmd *);

#endif
