/*
 * smmd.yaml: parsed and validated in one pass that collects every error as
 * "FILE:LINE:COLUMN: message" (never only the first). Pure: no event loop.
 */
#ifndef SMMD_CONFIG_H
#define SMMD_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct publisher_ops;

struct channel {
	char *name;
	const struct publisher_ops *pub;
	char *url;
	char *secret_file;     /* NULL when unsigned */
	unsigned char *secret; /* the file's bytes, read at load */
	size_t secret_len;
	int64_t timeout_ms;
	int64_t connect_timeout_ms;
	unsigned max_attempts;
	int64_t retry_base_ms;
	int64_t retry_max_ms;
};

struct config {
	unsigned refs; /* in-flight jobs keep the config they began under */
	char *path;
	char *state_dir;
	char *socket_path;
	char *control_group; /* NULL: only root and smmd's own user */
	gid_t control_gid;
	unsigned max_in_flight;
	int64_t shutdown_grace_ms;
	struct channel *channels;
	size_t nchannels;
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
/* "demo, shop" — the known channel names, for error messages. */
char *config_channel_names(const struct config *);

void config_errors_add(struct config_errors *, const char *file, size_t line,
                       size_t column, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void config_errors_clear(struct config_errors *);

#endif
