/*
 * smmd.yaml: parsed and validated in one pass that collects every error as
 * "FILE:LINE:COLUMN: message" (never only the first). Pure: no event loop.
 *
 * A channel's common keys (publisher, timeouts, retries, limits, notify)
 * are parsed here; the rest go to its publisher's configure(), which uses
 * the conf_* helpers below so every driver reports errors the same way.
 */
#ifndef SMMD_CONFIG_H
#define SMMD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct blackouts;
#include "cadence.h"
#include "hashtab.h"
#include "tokenseal.h"

struct publisher_ops;
struct engage_get;
struct auth_tokens;

/* When engagement is read back after publishing (confengage.c). */
#define ENGAGE_AGES_MAX 8
struct engage_ages {
	int n; /* -1: not said (a channel takes the top level's); 0: off */
	int64_t ms[ENGAGE_AGES_MAX]; /* growing ages after publishing */
};

struct channel {
	char *name;
	const struct publisher_ops *pub;
	void *pub_conf; /* the driver's settings; freed by free_conf */
	int64_t timeout_ms;
	int64_t connect_timeout_ms;
	unsigned max_attempts;
	int64_t retry_base_ms;
	int64_t retry_max_ms;
	unsigned max_in_flight;  /* concurrent requests on this channel */
	int64_t min_interval_ms; /* between two posts' starts on it */
	int64_t max_lateness_ms; /* a held post later than this is skipped */
	char *notify;            /* channel told when a delivery goes wrong */
	int allow_private_media; /* media URLs may point at private hosts */
	size_t media_max_bytes;  /* cap on one fetched/uploaded media file */
	char *media_dir;         /* media given as plain file names live here */
	unsigned max_length;     /* characters a post may have here; 0: any */
	struct slots *slots;     /* weekly posting slots; NULL: none */
	char *timezone;          /* of its slots; NULL: the calendar's */
	struct blackouts *blackouts; /* its own; NULL: none */
	/* Its posts wait as drafts until approved (-1 while parsing: unset). */
	int require_approval;
	struct cadence cadence; /* planned rhythm; n and min_gap 0: none */
	/* Where it was declared: cadence's value, else min_gap's; 0: not. */
	unsigned cadence_line, cadence_column;
	struct engage_ages metrics; /* engagement samples' ages */
	/* `engagement`: how to read it, where the publisher has no way of
	 * its own (template, webhook); NULL: not given. */
	struct engage_get *engage_get;
	/* Its OAuth tokens when its publisher has auth ops (auth.c keeps
	 * them across reloads); NULL: none known yet. */
	const struct auth_tokens *tokens;
	/* Where the network sends a person's browser back to with the code
	 * (`smmctl auth`); NULL: AUTH_REDIRECT_DEFAULT. */
	char *redirect_uri;
};
/* Nothing listens there: the person copies the address from the browser. */
#define AUTH_REDIRECT_DEFAULT "http://127.0.0.1:8976/callback"

struct config {
	unsigned refs; /* in-flight jobs keep the config they began under */
	char *path;
	char *state_dir;
	/* NULL: the SQLite store in state_dir; else a postgresql:// URL
	 * (store, or store_url_file when it carries a password). */
	char *store_url;
	/* token_key_file's key (tokenseal.h): tokens kept in PostgreSQL too,
	 * sealed, so that they follow a take-over. */
	int has_token_key;
	/* share_work: a node that finds another working fires a share of
	 * the channels beside it (a worker) rather than only stand by. */
	int share_work;
	unsigned char token_key[TOKENSEAL_KEY_LEN];
	struct conf_node *token_key_at;  /* while parsing: for messages */
	struct conf_node *share_work_at; /* ... */
	char *socket_path;
	char *control_group; /* NULL: only root and smmd's own user */
	gid_t control_gid;
	char *readonly_group; /* NULL: nobody may only read */
	gid_t readonly_gid;
	char *approvers_group; /* NULL: only root approves posts */
	gid_t approvers_gid;
	int require_approval; /* every channel's default */
	unsigned max_in_flight;
	unsigned max_host_connections;
	int64_t shutdown_grace_ms;
	char *calendar;      /* a file or folder of *.yaml; NULL: none */
	char *drill_channel; /* where plan B drills publish; NULL: none */
	int64_t catch_up_ms; /* still post this late after downtime */
	int64_t horizon_ms;  /* how far ahead recurrences are materialized */
	int log_json;        /* log_format: json */
	/* Where GET /metrics is served, as "127.0.0.1:9464"; NULL: off. */
	char *metrics_listen;
	struct sockaddr_storage metrics_addr; /* ... parsed */
	socklen_t metrics_addrlen;
	struct blackouts *blackouts; /* every channel's; NULL: none */
	struct engage_ages metrics;  /* every channel's default */
	unsigned metrics_in_flight;  /* engagement requests at once */
	int any_blackouts; /* this, or a channel's: the gate need not look */
	struct channel *channels;
	size_t nchannels;
	/* channels by name, once loaded; empty: config_channel searches */
	struct hashtab channel_index;
};

/* A growable list of "FILE:LINE:COLUMN: message" lines. */
struct config_errors {
	char **lines;
	size_t len;
};

#define CONFIG_DEFAULT_PATH "/etc/smmd/smmd.yaml"

/*
 * Load and validate path. Returns 0 with *out set (owned by the caller), or
 * -1 with every problem appended to errs (and *out NULL).
 */
int config_load(const char *path, struct config **out,
                struct config_errors *errs);
void config_free(struct config *);
struct config *config_ref(struct config *);
/* Drop a reference; frees at zero. Accepts NULL. */
void config_unref(struct config *);
const struct channel *config_channel(const struct config *, const char *name);
/*
 * The zone of ch's slots and cadence: its own timezone, else the
 * calendar's (calendar_zone, may be NULL), else the system's, else UTC.
 */
const struct caltime_zone *config_channel_zone(const struct channel *ch,
                                               const char *calendar_zone);
/* "demo, shop" — the known channel names, for error messages. */
char *config_channel_names(const struct config *);

void config_errors_add(struct config_errors *, const char *file, size_t line,
                       size_t column, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void config_errors_clear(struct config_errors *);

/*
 * For publishers' configure(): a parse in progress and one YAML node
 * (libyaml's yaml_node_t). Each helper reports a problem at the node and
 * returns -1; on success it returns 0 and replaces *out (freeing the old).
 */
struct conf_ctx;
struct conf_node; /* a yaml_node_t, opaque to drivers */

void conf_error(struct conf_ctx *, struct conf_node *, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The node's text if it is a scalar, else NULL. */
const char *conf_scalar(struct conf_node *);
int conf_string(struct conf_ctx *, struct conf_node *, const char *key,
                char **out);
/* An http or https URL with a host. */
int conf_url(struct conf_ctx *, struct conf_node *, const char *key,
             char **out);
int conf_duration(struct conf_ctx *, struct conf_node *, const char *key,
                  int64_t *out);
int conf_uint(struct conf_ctx *, struct conf_node *, const char *key,
              unsigned min, unsigned max, unsigned *out);
int conf_bool(struct conf_ctx *, struct conf_node *, const char *key, int *out);
/* A path, relative to the config file's folder unless absolute. */
int conf_path(struct conf_ctx *, struct conf_node *, const char *key,
              char **out);
/*
 * A secret from a file: the value is a path, or "credential:NAME" for
 * $CREDENTIALS_DIRECTORY/NAME (systemd's LoadCredential=). Refused when
 * group or others may read it. trim: drop trailing whitespace (tokens,
 * URLs); signing keys keep every byte. *out is NUL-terminated too.
 */
int conf_secret(struct conf_ctx *, struct conf_node *, const char *key,
                int trim, unsigned char **out, size_t *len);
/* Call fn for each key/value of a mapping (duplicate keys are errors). */
int conf_for_each_pair(struct conf_ctx *, struct conf_node *map,
                       const char *what,
                       void (*fn)(struct conf_ctx *, struct conf_node *key,
                                  struct conf_node *value, void *arg),
                       void *arg);
/* Wipe and free a secret. */
void conf_secret_free(unsigned char *secret, size_t len);

/*
 * A webhook URL that carries its token (Slack, Discord), so a secret: from
 * `url`, or from the secret file `url_file`, never both.
 */
struct conf_webhook_url {
	char *url; /* NULL until given; freed with conf_webhook_url_free */
	int given;
};
/* Returns 1 if key was url or url_file (errors reported), else 0. */
int conf_webhook_url(struct conf_ctx *, struct conf_node *, const char *key,
                     struct conf_webhook_url *);
/* Once the channel is read: report it if it gave neither key. */
void conf_webhook_url_check(struct conf_ctx *, struct conf_node *,
                            const char *channel,
                            const struct conf_webhook_url *);
void conf_webhook_url_free(struct conf_webhook_url *);

#endif
