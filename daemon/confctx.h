/*
 * The inside of a smmd.yaml parse, shared by config.c and the files that
 * read one group of its keys (confblackout.c). Drivers see only
 * config.h's opaque conf_ctx.
 */
#ifndef SMMD_CONFCTX_H
#define SMMD_CONFCTX_H

#include <yaml.h>

#include "config.h"

/* A parse in progress: the document, the file for messages, the errors. */
struct conf_ctx {
	const char *file;
	yaml_document_t *doc;
	struct config_errors *errs;
	const char *base_dir;
};

#define YN(n) ((yaml_node_t *)(n))
#define CN(n) ((struct conf_node *)(n))

/*
 * The blackout keys of the top level or of a channel (blackouts, quiet,
 * holidays, blackout_action): 1 if key is one (errors reported at their
 * node), else 0. *set is made on first use; see blackout.h.
 */
int conf_blackout_key(struct conf_ctx *, const char *key, struct conf_node *v,
                      struct blackouts **set);
void conf_blackouts_free(struct blackouts *);

/* `metrics` (confengage.c): 1 if key is it (errors reported), else 0. */
int conf_engage_key(struct conf_ctx *, const char *key, struct conf_node *v,
                    struct engage_ages *ages);

#endif
