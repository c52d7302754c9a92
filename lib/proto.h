/*
 * Control protocol codec (see include/smm/protocol.h). Pure: lines in,
 * lines out; no sockets.
 */
#ifndef SMM_PROTO_H
#define SMM_PROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct proto_request {
	json_int_t id; /* echoed in the reply; 0 if the line had none */
	char cmd[32];  /* the command name */
	json_t *args;  /* owned: an object, {} when absent */
};

/*
 * Parse one request line (without its newline). On success fills req (free
 * args with proto_request_clear) and returns 0. On failure returns -1 with
 * req->id set when it could be recovered, *code set to an SMM_ERR_* string
 * and a human message in msg.
 */
int proto_parse_request(const char *line, size_t len, struct proto_request *req,
                        const char **code, char *msg, size_t msglen);
void proto_request_clear(struct proto_request *req);

/*
 * Encode a reply as one line terminated by '\n'. The returned buffer is
 * malloc'd and owned by the caller; *len gets its length. result is
 * borrowed (may be NULL for {}). Returns NULL on allocation failure.
 */
char *proto_reply_ok(json_int_t id, const json_t *result, size_t *len);
char *proto_reply_error(json_int_t id, const char *code, const char *message,
                        size_t *len);

/* Encode a request line (for smmctl); malloc'd, '\n'-terminated. */
char *proto_request_encode(json_int_t id, const char *cmd, const json_t *args,
                           size_t *len);

/*
 * Parse a reply line. Returns 0 with *ok, *id and either *result (owned by
 * the caller, json_decref) or code/msg filled; -1 if the line is not a
 * valid reply.
 */
int proto_parse_reply(const char *line, size_t len, json_int_t *id, int *ok,
                      json_t **result, char *code, size_t codelen, char *msg,
                      size_t msglen);

/* Typed getters for args; they return 0, or -1 (wrong type) with msg set. */
int proto_get_string(const json_t *args, const char *key, const char **out,
                     int required, char *msg, size_t msglen);

#endif
