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
 * How a command that answers later (reload) sends its reply: finish is
 * called exactly once, with a result (stolen) or an error code and text.
 */
struct cmd_later {
	void (*finish)(struct cmd_later *, json_t *result, const char *code,
	               const char *msg);
};

/*
 * Run req. Returns 0 with *result (owned by the caller), -1 with *code
 * (an SMM_ERR_* string) and msg set, or 1 when the reply will come
 * through later->finish.
 */
int command_run(struct smmd *, const struct proto_request *req, json_t **result,
                const char **code, char *msg, size_t msglen,
                struct cmd_later *later);

#endif
