/*
 * The control commands (hello, add, list, show, cancel, status): one
 * request in, one result or error out. Transport-free so it can be driven
 * by control.c or a test.
 */
#ifndef SMMD_COMMAND_H
#define SMMD_COMMAND_H

#include <jansson.h>
#include <stddef.h>

struct smmd;
struct proto_request;

/*
 * Run req. Returns 0 with *result (owned by the caller), or -1 with *code
 * (an SMM_ERR_* string) and msg set.
 */
int command_run(struct smmd *, const struct proto_request *req, json_t **result,
                const char **code, char *msg, size_t msglen);

#endif
