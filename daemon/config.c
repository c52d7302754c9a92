#include "config.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "postid.h"
#include "publishers/publisher.h"
#include "timeparse.h"

#define SECRET_MAX 4096

/* Parsing state: the document, the file name for messages, the errors. */
struct cfg_parse {
	const char *file;
	yaml_document_t *doc;
	struct config_errors *errs;
	const char *base_dir;
};

void config_errors_add(struct config_errors *errs, const char *file,
                       size_t line, size_t column, const char *fmt, ...)
{
	char msg[1024], *lineb, **grown;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&lineb, "%s:%zu:%zu: %s", file, line, column, msg) < 0)
		return;
	grown = realloc(errs->lines, (errs->len + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(lineb);
		return;
	}
	errs->lines = grown;
	errs->lines[errs->len++] = lineb;
}

void config_errors_clear(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->len; i++)
		free(errs->lines[i]);
	free(errs->lines);
	errs->lines = NULL;
	errs->len = 0;
}

/* libyaml marks are 0-based; people count from 1. */
#define ERR_AT(p, node, ...)                                                 \
	config_errors_add((p)->errs, (p)->file, (node)->start_mark.line + 1, \
	                  (node)->start_mark.column + 1, __VA_ARGS__)

static const char *scalar(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
	                                   : NULL;
}

static int want_scalar(struct cfg_parse *p, yaml_node_t *n, const char *key,
                       const char **out)
{
	if ((*out = scalar(n)) == NULL || *out[0] == '\0') {
		ERR_AT(p, n, "'%s' must be a non-empty string", key);
		return -1;
	}
	return 0;
}

static int want_duration(struct cfg_parse *p, yaml_node_t *n, const char *key,
                         int64_t *out)
{
	const char *s;

	if (want_scalar(p, n, key, &s) < 0)
		return -1;
	if (duration_parse(s, out) < 0) {
		ERR_AT(p, n,
		       "'%s': invalid duration '%s' (expected e.g. 250ms, "
		       "10s, 2m, 1h)",
		       key, s);
		return -1;
	}
	return 0;
}

static int want_uint(struct cfg_parse *p, yaml_node_t *n, const char *key,
                     unsigned min, unsigned max, unsigned *out)
{
	const char *s;
	char *end;
	unsigned long v;

	if (want_scalar(p, n, key, &s) < 0)
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)s[0]) || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		ERR_AT(p, n, "'%s' must be a whole number from %u to %u", key,
		       min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

/* A relative path in the config is relative to the config file's folder. */
static char *resolve_path(const struct cfg_parse *p, const char *value)
{
	char *out;

	if (value[0] == '/' || p->base_dir == NULL)
		return strdup(value);
	if (asprintf(&out, "%s/%s", p->base_dir, value) < 0)
		return NULL;
	return out;
}

static int want_path(struct cfg_parse *p, yaml_node_t *n, const char *key,
                     char **out)
{
	const char *s;

	if (want_scalar(p, n, key, &s) < 0)
		return -1;
	free(*out);
	if ((*out = resolve_path(p, s)) == NULL) {
		ERR_AT(p, n, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * Walk a mapping, rejecting duplicate keys; call fn for each pair. Keys
 * must be scalars.
 */
typedef void (*pair_fn)(struct cfg_parse *, yaml_node_t *key,
                        yaml_node_t *value, void *arg);

static int for_each_pair(struct cfg_parse *p, yaml_node_t *map,
                         const char *what, pair_fn fn, void *arg)
{
	yaml_node_pair_t *pair, *prev;

	if (map->type != YAML_MAPPING_NODE) {
		ERR_AT(p, map, "%s must be a mapping of keys to values", what);
		return -1;
	}
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		int dup = 0;

		if (scalar(k) == NULL) {
			ERR_AT(p, k, "keys in %s must be plain strings", what);
			continue;
		}
		for (prev = map->data.mapping.pairs.start; prev < pair;
		     prev++) {
			yaml_node_t *pk =
			        yaml_document_get_node(p->doc, prev->key);
			if (scalar(pk) && strcmp(scalar(pk), scalar(k)) == 0)
				dup = 1;
		}
		if (dup) {
			ERR_AT(p, k, "duplicate key '%s' in %s", scalar(k),
			       what);
			continue;
		}
		fn(p, k, v, arg);
	}
	return 0;
}

static int read_secret(struct cfg_parse *p, yaml_node_t *n, struct channel *ch)
{
	struct stat st;
	ssize_t r;
	int fd;

	if ((fd = open(ch->secret_file, O_RDONLY | O_CLOEXEC)) < 0) {
		ERR_AT(p, n, "secret_file '%s': %s", ch->secret_file,
		       strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ERR_AT(p, n, "secret_file '%s' is not a regular file",
		       ch->secret_file);
		goto bad;
	}
	/* A signing key others can read is no secret: refuse, don't warn. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ERR_AT(p, n,
		       "secret_file '%s' is readable by group or others "
		       "(chmod 600 it)",
		       ch->secret_file);
		goto bad;
	}
	if (st.st_size == 0 || st.st_size > SECRET_MAX) {
		ERR_AT(p, n, "secret_file '%s' must hold 1 to %d bytes",
		       ch->secret_file, SECRET_MAX);
		goto bad;
	}
	if ((ch->secret = malloc((size_t)st.st_size)) == NULL)
		goto bad;
	r = read(fd, ch->secret, (size_t)st.st_size);
	if (r != st.st_size) {
		ERR_AT(p, n, "secret_file '%s': short read", ch->secret_file);
		goto bad;
	}
	ch->secret_len = (size_t)r;
	close(fd);
	return 0;
bad:
	close(fd);
	return -1;
}

static int check_url(struct cfg_parse *p, yaml_node_t *n, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		ERR_AT(p, n, "'url': '%s' is not a valid URL", url);
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	         (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		ERR_AT(p, n, "'url': only http and https URLs are allowed");
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		ERR_AT(p, n, "'url': '%s' has no host", url);
	else
		ok = 1;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok ? 0 : -1;
}

struct channel_parse {
	struct channel *ch;
	yaml_node_t *url_node;
	yaml_node_t *secret_node;
};

static void channel_pair(struct cfg_parse *p, yaml_node_t *k, yaml_node_t *v,
                         void *arg)
{
	struct channel_parse *cp = arg;
	struct channel *ch = cp->ch;
	const char *key = scalar(k), *s;

	if (strcmp(key, "publisher") == 0) {
		if (want_scalar(p, v, key, &s) < 0)
			return;
		if ((ch->pub = publisher_lookup(s)) == NULL) {
			char *known = publisher_names();
			ERR_AT(p, v, "unknown publisher '%s' (known: %s)", s,
			       known ? known : "?");
			free(known);
		}
	} else if (strcmp(key, "url") == 0) {
		if (want_scalar(p, v, key, &s) == 0) {
			free(ch->url);
			ch->url = strdup(s);
			cp->url_node = v;
		}
	} else if (strcmp(key, "secret_file") == 0) {
		if (want_path(p, v, key, &ch->secret_file) == 0)
			cp->secret_node = v;
	} else if (strcmp(key, "timeout") == 0) {
		want_duration(p, v, key, &ch->timeout_ms);
	} else if (strcmp(key, "connect_timeout") == 0) {
		want_duration(p, v, key, &ch->connect_timeout_ms);
	} else if (strcmp(key, "max_attempts") == 0) {
		want_uint(p, v, key, 1, 100, &ch->max_attempts);
	} else if (strcmp(key, "retry_base") == 0) {
		want_duration(p, v, key, &ch->retry_base_ms);
	} else if (strcmp(key, "retry_max") == 0) {
		want_duration(p, v, key, &ch->retry_max_ms);
	} else {
		ERR_AT(p, k,
		       "unknown key '%s' in channel '%s' (known: publisher, "
		       "url, secret_file, timeout, connect_timeout, "
		       "max_attempts, retry_base, retry_max)",
		       key, ch->name);
	}
}

static void channels_pair(struct cfg_parse *p, yaml_node_t *k, yaml_node_t *v,
                          void *arg)
{
	struct config *cfg = arg;
	struct channel *grown, *ch;
	struct channel_parse cp = {0};
	size_t before = p->errs->len;

	if (!postid_valid(scalar(k))) {
		ERR_AT(p, k,
		       "channel name '%s' may use only letters, digits and "
		       "._:@+-",
		       scalar(k));
		return;
	}
	grown = realloc(cfg->channels, (cfg->nchannels + 1) * sizeof(*grown));
	if (grown == NULL) {
		ERR_AT(p, k, "out of memory");
		return;
	}
	cfg->channels = grown;
	ch = &cfg->channels[cfg->nchannels++];
	memset(ch, 0, sizeof(*ch));
	ch->name = strdup(scalar(k));
	ch->timeout_ms = 10 * 1000;
	ch->connect_timeout_ms = 5 * 1000;
	ch->max_attempts = 8;
	ch->retry_base_ms = 30 * 1000;
	ch->retry_max_ms = 60 * 60 * 1000;
	cp.ch = ch;

	if (for_each_pair(p, v, "a channel", channel_pair, &cp) < 0)
		return;
	if (ch->pub == NULL && p->errs->len == before)
		ERR_AT(p, k, "channel '%s' has no 'publisher'", ch->name);
	if (cp.url_node == NULL)
		ERR_AT(p, k, "channel '%s' has no 'url'", ch->name);
	else
		check_url(p, cp.url_node, ch->url);
	if (ch->timeout_ms <= 0)
		ERR_AT(p, k, "channel '%s': 'timeout' must be positive",
		       ch->name);
	if (ch->retry_base_ms > ch->retry_max_ms)
		ERR_AT(p, k,
		       "channel '%s': 'retry_base' is longer than 'retry_max'",
		       ch->name);
	if (cp.secret_node)
		read_secret(p, cp.secret_node, ch);
}

static void top_pair(struct cfg_parse *p, yaml_node_t *k, yaml_node_t *v,
                     void *arg)
{
	struct config *cfg = arg;
	const char *key = scalar(k), *s;

	if (strcmp(key, "state_dir") == 0) {
		want_path(p, v, key, &cfg->state_dir);
	} else if (strcmp(key, "socket") == 0) {
		want_path(p, v, key, &cfg->socket_path);
	} else if (strcmp(key, "control_group") == 0) {
		struct group *gr;

		if (want_scalar(p, v, key, &s) < 0)
			return;
		if ((gr = getgrnam(s)) == NULL) {
			ERR_AT(p, v, "control_group: no such group '%s'", s);
			return;
		}
		free(cfg->control_group);
		cfg->control_group = strdup(s);
		cfg->control_gid = gr->gr_gid;
	} else if (strcmp(key, "max_in_flight") == 0) {
		want_uint(p, v, key, 1, 10000, &cfg->max_in_flight);
	} else if (strcmp(key, "shutdown_grace") == 0) {
		want_duration(p, v, key, &cfg->shutdown_grace_ms);
	} else if (strcmp(key, "channels") == 0) {
		for_each_pair(p, v, "'channels'", channels_pair, cfg);
	} else {
		ERR_AT(p, k,
		       "unknown key '%s' (known: state_dir, socket, "
		       "control_group, max_in_flight, shutdown_grace, channels)",
		       key);
	}
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int config_load(const char *path, struct config **out,
                struct config_errors *errs)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct config *cfg;
	struct cfg_parse p = {.file = path, .doc = &doc, .errs = errs};
	yaml_node_t *root;
	size_t before = errs->len;
	char *base_dir;
	FILE *fp;

	*out = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		config_errors_add(errs, path, 0, 0, "cannot open: %s",
		                  strerror(errno));
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(fp);
		config_errors_add(errs, path, 0, 0, "out of memory");
		return -1;
	}
	yaml_parser_set_input_file(&parser, fp);
	if (!yaml_parser_load(&parser, &doc)) {
		config_errors_add(errs, path, parser.problem_mark.line + 1,
		                  parser.problem_mark.column + 1, "%s%s%s",
		                  parser.problem ? parser.problem
		                                 : "invalid YAML",
		                  parser.context ? " " : "",
		                  parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(fp);
		return -1;
	}
	yaml_parser_delete(&parser);
	fclose(fp);

	if ((cfg = calloc(1, sizeof(*cfg))) == NULL ||
	    (base_dir = dir_of(path)) == NULL) {
		free(cfg);
		yaml_document_delete(&doc);
		config_errors_add(errs, path, 0, 0, "out of memory");
		return -1;
	}
	p.base_dir = base_dir;
	cfg->refs = 1;
	cfg->path = strdup(path);
	cfg->max_in_flight = 256;
	cfg->shutdown_grace_ms = 5 * 1000;

	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		config_errors_add(errs, path, 1, 1, "the file is empty");
	else if (for_each_pair(&p, root, "the configuration", top_pair, cfg) ==
	         0) {
		if (cfg->state_dir == NULL)
			ERR_AT(&p, root, "missing required key 'state_dir'");
		if (cfg->socket_path == NULL)
			cfg->socket_path = strdup("/run/smmd/smmd.sock");
		if (cfg->nchannels == 0)
			ERR_AT(&p, root,
			       "no channels: add at least one under "
			       "'channels'");
	}
	free(base_dir);
	yaml_document_delete(&doc);
	if (errs->len > before) {
		config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nchannels; i++) {
		struct channel *ch = &cfg->channels[i];

		free(ch->name);
		free(ch->url);
		free(ch->secret_file);
		if (ch->secret) {
			/* Don't leave the key in freed memory. */
			explicit_bzero(ch->secret, ch->secret_len);
			free(ch->secret);
		}
	}
	free(cfg->channels);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->socket_path);
	free(cfg->control_group);
	free(cfg);
}

struct config *config_ref(struct config *cfg)
{
	cfg->refs++;
	return cfg;
}

void config_unref(struct config *cfg)
{
	if (cfg && --cfg->refs == 0)
		config_free(cfg);
}

const struct channel *config_channel(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nchannels; i++)
		if (strcmp(cfg->channels[i].name, name) == 0)
			return &cfg->channels[i];
	return NULL;
}

char *config_channel_names(const struct config *cfg)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < cfg->nchannels; i++)
		len += strlen(cfg->channels[i].name) + 2;
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; i < cfg->nchannels; i++) {
		if (i > 0)
			strcat(out, ", ");
		strcat(out, cfg->channels[i].name);
	}
	return out;
}
