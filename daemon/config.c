#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <yaml.h>
#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

#include "blackout.h"
#include "caltime.h"
#include "confctx.h"
#include "postid.h"
#include "publishers/engage_get.h"
#include "publishers/publisher.h"
#include "slots.h"
#include "timeparse.h"
#include "urlcheck.h"

#define SECRET_MAX (64 * 1024)

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

void conf_error(struct conf_ctx *p, struct conf_node *node, const char *fmt,
                ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libyaml marks are 0-based; people count from 1. */
	config_errors_add(p->errs, p->file, YN(node)->start_mark.line + 1,
	                  YN(node)->start_mark.column + 1, "%s", msg);
}

const char *conf_scalar(struct conf_node *n)
{
	return YN(n)->type == YAML_SCALAR_NODE
	               ? (const char *)YN(n)->data.scalar.value
	               : NULL;
}

static int want_scalar(struct conf_ctx *p, struct conf_node *n, const char *key,
                       const char **out)
{
	if ((*out = conf_scalar(n)) == NULL || *out[0] == '\0') {
		conf_error(p, n, "'%s' must be a non-empty string", key);
		return -1;
	}
	return 0;
}

int conf_string(struct conf_ctx *p, struct conf_node *n, const char *key,
                char **out)
{
	const char *s;
	char *copy;

	if (want_scalar(p, n, key, &s) < 0)
		return -1;
	if ((copy = strdup(s)) == NULL) {
		conf_error(p, n, "out of memory");
		return -1;
	}
	free(*out);
	*out = copy;
	return 0;
}

int conf_duration(struct conf_ctx *p, struct conf_node *n, const char *key,
                  int64_t *out)
{
	const char *s;

	if (want_scalar(p, n, key, &s) < 0)
		return -1;
	if (duration_parse(s, out) < 0) {
		conf_error(p, n,
		           "'%s': invalid duration '%s' (expected e.g. 250ms, "
		           "10s, 2m, 1h)",
		           key, s);
		return -1;
	}
	return 0;
}

int conf_uint(struct conf_ctx *p, struct conf_node *n, const char *key,
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
		conf_error(p, n, "'%s' must be a whole number from %u to %u",
		           key, min, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int conf_bool(struct conf_ctx *p, struct conf_node *n, const char *key,
              int *out)
{
	const char *s;

	if (want_scalar(p, n, key, &s) < 0)
		return -1;
	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = 0;
	else {
		conf_error(p, n, "'%s' must be true or false", key);
		return -1;
	}
	return 0;
}

/* A relative path in the config is relative to the config file's folder. */
static char *resolve_path(const struct conf_ctx *p, const char *value)
{
	char *out;

	if (value[0] == '/' || p->base_dir == NULL)
		return strdup(value);
	if (asprintf(&out, "%s/%s", p->base_dir, value) < 0)
		return NULL;
	return out;
}

int conf_path(struct conf_ctx *p, struct conf_node *n, const char *key,
              char **out)
{
	const char *s;
	char *path;

	if (want_scalar(p, n, key, &s) < 0)
		return -1;
	if ((path = resolve_path(p, s)) == NULL) {
		conf_error(p, n, "out of memory");
		return -1;
	}
	free(*out);
	*out = path;
	return 0;
}

int conf_url(struct conf_ctx *p, struct conf_node *n, const char *key,
             char **out)
{
	const char *url;

	if (want_scalar(p, n, key, &url) < 0)
		return -1;
	switch (urlcheck(url, 0)) {
	case URLCHECK_OK:
		return conf_string(p, n, key, out);
	case URLCHECK_NOMEM:
		conf_error(p, n, "out of memory");
		break;
	case URLCHECK_SYNTAX:
		conf_error(p, n, "'%s': '%s' is not a valid URL", key, url);
		break;
	case URLCHECK_SCHEME:
		conf_error(p, n, "'%s': only http and https URLs are allowed",
		           key);
		break;
	case URLCHECK_NO_HOST:
		conf_error(p, n, "'%s': '%s' has no host", key, url);
		break;
	}
	return -1;
}

void conf_secret_free(unsigned char *secret, size_t len)
{
	if (secret == NULL)
		return;
	/* Don't leave the key in freed memory. */
	explicit_bzero(secret, len);
	free(secret);
}

int conf_webhook_url(struct conf_ctx *p, struct conf_node *v, const char *key,
                     struct conf_webhook_url *w)
{
	unsigned char *url = NULL;
	size_t len = 0;

	if (strcmp(key, "url") != 0 && strcmp(key, "url_file") != 0)
		return 0;
	if (w->given++) {
		conf_error(p, v, "give 'url' or 'url_file', not both");
		return 1;
	}
	if (strcmp(key, "url") == 0) {
		conf_url(p, v, key, &w->url);
		return 1;
	}
	if (conf_secret(p, v, key, 1, &url, &len) < 0)
		return 1;
	/* Say what is wrong without echoing the secret. */
	if (!url_is_http((char *)url) ||
	    strpbrk((char *)url, " \t\r\n") != NULL ||
	    strlen((char *)url) != len) {
		conf_error(p, v,
		           "'%s': the file must hold one http or https URL",
		           key);
		conf_secret_free(url, len);
		return 1;
	}
	w->url = (char *)url;
	return 1;
}

void conf_webhook_url_check(struct conf_ctx *p, struct conf_node *n,
                            const char *channel,
                            const struct conf_webhook_url *w)
{
	if (!w->given)
		conf_error(p, n,
		           "channel '%s' has no 'url_file' (the webhook URL)",
		           channel);
}

void conf_webhook_url_free(struct conf_webhook_url *w)
{
	if (w->url != NULL)
		conf_secret_free((unsigned char *)w->url, strlen(w->url));
	w->url = NULL;
}

/*
 * Messages name the file, never its content: a secret must not leak into a
 * log or an error because it was malformed.
 */
int conf_secret(struct conf_ctx *p, struct conf_node *n, const char *key,
                int trim, unsigned char **out, size_t *outlen)
{
	const char *value, *creds;
	char *path = NULL;
	unsigned char *buf = NULL;
	struct stat st;
	ssize_t r;
	int fd;

	if (want_scalar(p, n, key, &value) < 0)
		return -1;
	if (strncmp(value, "credential:", 11) == 0) {
		if ((creds = getenv("CREDENTIALS_DIRECTORY")) == NULL) {
			conf_error(p, n,
			           "'%s': %s needs $CREDENTIALS_DIRECTORY "
			           "(systemd's LoadCredential=)",
			           key, value);
			return -1;
		}
		if (!postid_valid(value + 11) ||
		    asprintf(&path, "%s/%s", creds, value + 11) < 0) {
			conf_error(p, n, "'%s': invalid credential name", key);
			return -1;
		}
	} else if ((path = resolve_path(p, value)) == NULL) {
		conf_error(p, n, "out of memory");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		conf_error(p, n, "'%s': cannot open '%s': %s", key, path,
		           strerror(errno));
		free(path);
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		conf_error(p, n, "'%s': '%s' is not a regular file", key, path);
		goto bad;
	}
	/* A key others can read is no secret: refuse, don't warn. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		conf_error(p, n,
		           "'%s': '%s' is readable by group or others (chmod "
		           "600 it)",
		           key, path);
		goto bad;
	}
	if (st.st_size == 0 || st.st_size > SECRET_MAX) {
		conf_error(p, n, "'%s': '%s' must hold 1 to %d bytes", key,
		           path, SECRET_MAX);
		goto bad;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto bad;
	r = read(fd, buf, (size_t)st.st_size);
	if (r != st.st_size) {
		conf_error(p, n, "'%s': short read on '%s'", key, path);
		goto bad;
	}
	if (trim)
		while (r > 0 && isspace(buf[r - 1]))
			r--;
	if (r == 0) {
		conf_error(p, n, "'%s': '%s' holds only white space", key,
		           path);
		goto bad;
	}
	buf[r] = '\0';
	close(fd);
	free(path);
	conf_secret_free(*out, *outlen);
	*out = buf;
	*outlen = (size_t)r;
	return 0;
bad:
	conf_secret_free(buf, (size_t)st.st_size + 1);
	close(fd);
	free(path);
	return -1;
}

int conf_for_each_pair(struct conf_ctx *p, struct conf_node *map,
                       const char *what,
                       void (*fn)(struct conf_ctx *, struct conf_node *key,
                                  struct conf_node *value, void *arg),
                       void *arg)
{
	yaml_node_pair_t *pair, *prev;
	yaml_node_t *m = YN(map);

	if (m->type != YAML_MAPPING_NODE) {
		conf_error(p, map, "%s must be a mapping of keys to values",
		           what);
		return -1;
	}
	for (pair = m->data.mapping.pairs.start;
	     pair < m->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pair->value);
		int dup = 0;

		if (conf_scalar(CN(k)) == NULL) {
			conf_error(p, CN(k), "keys in %s must be plain strings",
			           what);
			continue;
		}
		for (prev = m->data.mapping.pairs.start; prev < pair; prev++) {
			yaml_node_t *pk =
			        yaml_document_get_node(p->doc, prev->key);
			const char *ps = conf_scalar(CN(pk));

			if (ps && strcmp(ps, conf_scalar(CN(k))) == 0)
				dup = 1;
		}
		if (dup) {
			conf_error(p, CN(k), "duplicate key '%s' in %s",
			           conf_scalar(CN(k)), what);
			continue;
		}
		fn(p, CN(k), CN(v), arg);
	}
	return 0;
}

/* The keys every channel has, whatever its publisher. */
#define COMMON_KEYS                                                       \
	"publisher, timeout, connect_timeout, max_attempts, retry_base, " \
	"retry_max, max_in_flight, min_interval, notify, "                \
	"allow_private_media, media_max_size, media_dir, max_length, "    \
	"max_lateness, slots, timezone, blackouts, quiet, holidays, "     \
	"blackout_action, require_approval, cadence, min_gap, metrics"

struct channel_parse {
	struct channel *ch;
	struct conf_node *notify_node;
	/* Driver keys seen before 'publisher': handled once it is known. */
	struct conf_node *deferred[64][2];
	size_t ndeferred;
};

/* slots: a list of "DAYS HH:MM", each checked where it is written. */
static void channel_slots(struct conf_ctx *p, struct conf_node *v,
                          struct channel *ch)
{
	yaml_node_t *n = YN(v);
	yaml_node_item_t *it;
	char err[256];

	if (n->type != YAML_SEQUENCE_NODE) {
		conf_error(p, v,
		           "'slots' must be a list such as [\"Mon-Fri 09:00\", "
		           "\"Sat 11:00\"]");
		return;
	}
	if (ch->slots == NULL &&
	    (ch->slots = calloc(1, sizeof(*ch->slots))) == NULL) {
		conf_error(p, v, "out of memory");
		return;
	}
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		struct conf_node *item =
		        CN(yaml_document_get_node(p->doc, *it));
		const char *text = conf_scalar(item);
		struct slot slot;

		if (text == NULL)
			conf_error(p, item,
			           "a slot is a string such as \"Mon-Fri "
			           "09:00\"");
		else if (slot_parse(text, &slot, err, sizeof(err)) < 0)
			conf_error(p, item, "%s", err);
		else if (slots_add(ch->slots, &slot) < 0)
			conf_error(p, item, "more than %d slot times",
			           SLOTS_MAX);
	}
}

/*
 * cadence ("3/week") and min_gap ("4h"), each checked where it is
 * written; the declaration's place is kept for warnings that no post
 * causes (a week under target).
 */
static void channel_cadence(struct conf_ctx *p, const char *key,
                            struct conf_node *v, struct channel *ch)
{
	const char *s = conf_scalar(v);
	char err[256];

	if (strcmp(key, "cadence") == 0) {
		if (s == NULL)
			conf_error(p, v,
			           "'cadence' must be a string such as 3/week");
		else if (cadence_parse(s, &ch->cadence, err, sizeof(err)) < 0)
			conf_error(p, v, "%s", err);
	} else if (conf_duration(p, v, key, &ch->cadence.min_gap_ms) == 0 &&
	           ch->cadence.min_gap_ms <= 0) {
		conf_error(p, v, "'min_gap' must be longer than 0");
	}
	if (ch->cadence_line == 0 || strcmp(key, "cadence") == 0) {
		ch->cadence_line = (unsigned)YN(v)->start_mark.line + 1;
		ch->cadence_column = (unsigned)YN(v)->start_mark.column + 1;
	}
}

static void channel_key(struct conf_ctx *p, struct channel_parse *cp,
                        struct conf_node *k, struct conf_node *v)
{
	struct channel *ch = cp->ch;
	const char *key = conf_scalar(k);
	unsigned mib;

	if (strcmp(key, "timeout") == 0)
		conf_duration(p, v, key, &ch->timeout_ms);
	else if (strcmp(key, "connect_timeout") == 0)
		conf_duration(p, v, key, &ch->connect_timeout_ms);
	else if (strcmp(key, "max_attempts") == 0)
		conf_uint(p, v, key, 1, 100, &ch->max_attempts);
	else if (strcmp(key, "retry_base") == 0)
		conf_duration(p, v, key, &ch->retry_base_ms);
	else if (strcmp(key, "retry_max") == 0)
		conf_duration(p, v, key, &ch->retry_max_ms);
	else if (strcmp(key, "max_in_flight") == 0)
		conf_uint(p, v, key, 1, 10000, &ch->max_in_flight);
	else if (strcmp(key, "min_interval") == 0)
		conf_duration(p, v, key, &ch->min_interval_ms);
	else if (strcmp(key, "max_lateness") == 0)
		conf_duration(p, v, key, &ch->max_lateness_ms);
	else if (strcmp(key, "slots") == 0)
		channel_slots(p, v, ch);
	else if (conf_blackout_key(p, key, v, &ch->blackouts))
		;
	else if (strcmp(key, "cadence") == 0 || strcmp(key, "min_gap") == 0)
		channel_cadence(p, key, v, ch);
	else if (strcmp(key, "timezone") == 0) {
		if (conf_string(p, v, key, &ch->timezone) == 0 &&
		    caltime_zone(ch->timezone) == NULL)
			conf_error(
			        p, v,
			        "unknown time zone '%s' (an IANA name such as "
			        "Europe/Madrid)",
			        ch->timezone);
	} else if (strcmp(key, "notify") == 0) {
		if (conf_string(p, v, key, &ch->notify) == 0)
			cp->notify_node = v;
	} else if (strcmp(key, "allow_private_media") == 0)
		conf_bool(p, v, key, &ch->allow_private_media);
	else if (strcmp(key, "media_max_size") == 0) {
		if (conf_uint(p, v, "media_max_size (MiB)", 1, 1024, &mib) == 0)
			ch->media_max_bytes = (size_t)mib << 20;
	} else if (strcmp(key, "media_dir") == 0)
		conf_path(p, v, key, &ch->media_dir);
	else if (strcmp(key, "max_length") == 0)
		conf_uint(p, v, key, 1, 1000000, &ch->max_length);
	else if (strcmp(key, "require_approval") == 0)
		conf_bool(p, v, key, &ch->require_approval);
	else if (strcmp(key, "redirect_uri") == 0 && ch->pub && ch->pub->auth)
		conf_url(p, v, key, &ch->redirect_uri);
	else if (conf_engage_key(p, key, v, &ch->metrics))
		;
	else if (strcmp(key, "engagement") == 0 && ch->pub &&
	         ch->pub->engage == &engage_get_ops)
		engage_get_configure(p, v, &ch->engage_get);
	else if (ch->pub && ch->pub->configure &&
	         ch->pub->configure(p, ch, key, v))
		; /* the driver's own key */
	else if (ch->pub)
		conf_error(
		        p, k,
		        "unknown key '%s' in channel '%s' (known: " COMMON_KEYS
		        "%s%s)",
		        key, ch->name, ch->pub->keys[0] ? ", " : "",
		        ch->pub->keys);
	else if (cp->ndeferred < 64) {
		cp->deferred[cp->ndeferred][0] = k;
		cp->deferred[cp->ndeferred][1] = v;
		cp->ndeferred++;
	}
}

static void channel_pair(struct conf_ctx *p, struct conf_node *k,
                         struct conf_node *v, void *arg)
{
	struct channel_parse *cp = arg;
	const char *s;

	if (strcmp(conf_scalar(k), "publisher") != 0) {
		channel_key(p, cp, k, v);
		return;
	}
	if (want_scalar(p, v, "publisher", &s) < 0)
		return;
	if ((cp->ch->pub = publisher_lookup(s)) == NULL) {
		char *known = publisher_names();

		conf_error(p, v, "unknown publisher '%s' (known: %s)", s,
		           known ? known : "?");
		free(known);
	}
}

static void channels_pair(struct conf_ctx *p, struct conf_node *k,
                          struct conf_node *v, void *arg)
{
	struct config *cfg = arg;
	struct channel *grown, *ch;
	struct channel_parse cp = {0};
	size_t before = p->errs->len;

	if (!postid_valid(conf_scalar(k))) {
		conf_error(p, k,
		           "channel name '%s' may use only letters, digits "
		           "and ._:@+-",
		           conf_scalar(k));
		return;
	}
	grown = realloc(cfg->channels, (cfg->nchannels + 1) * sizeof(*grown));
	if (grown == NULL) {
		conf_error(p, k, "out of memory");
		return;
	}
	cfg->channels = grown;
	ch = &cfg->channels[cfg->nchannels++];
	memset(ch, 0, sizeof(*ch));
	ch->name = strdup(conf_scalar(k));
	ch->timeout_ms = 10 * 1000;
	ch->connect_timeout_ms = 5 * 1000;
	ch->max_attempts = 8;
	ch->retry_base_ms = 30 * 1000;
	ch->retry_max_ms = 60 * 60 * 1000;
	ch->max_lateness_ms = 60 * 60 * 1000;
	ch->max_in_flight = 4;
	ch->media_max_bytes = 8u << 20;
	ch->require_approval = -1; /* the top level's, once it is read */
	ch->metrics.n = -1;
	cp.ch = ch;

	if (conf_for_each_pair(p, v, "a channel", channel_pair, &cp) < 0)
		return;
	if (ch->pub == NULL) {
		if (p->errs->len == before)
			conf_error(p, k, "channel '%s' has no 'publisher'",
			           ch->name);
		return;
	}
	for (size_t i = 0; i < cp.ndeferred; i++)
		channel_key(p, &cp, cp.deferred[i][0], cp.deferred[i][1]);
	if (ch->pub->check)
		ch->pub->check(p, ch, k);
	if (ch->timeout_ms <= 0)
		conf_error(p, k, "channel '%s': 'timeout' must be positive",
		           ch->name);
	if (ch->retry_base_ms > ch->retry_max_ms)
		conf_error(p, k,
		           "channel '%s': 'retry_base' is longer than "
		           "'retry_max'",
		           ch->name);
	if (cp.notify_node && strcmp(ch->notify, ch->name) == 0)
		conf_error(p, cp.notify_node,
		           "channel '%s' cannot notify itself", ch->name);
}

/* A group that must exist: its name in *name, its gid in *gid. */
static void conf_group(struct conf_ctx *p, struct conf_node *v, const char *key,
                       char **name, gid_t *gid)
{
	struct group *gr;
	const char *s;

	if (want_scalar(p, v, key, &s) < 0)
		return;
	if ((gr = getgrnam(s)) == NULL) {
		conf_error(p, v, "%s: no such group '%s'", key, s);
		return;
	}
	conf_string(p, v, key, name);
	*gid = gr->gr_gid;
}

/* "PORT" (on 127.0.0.1), "ADDRESS:PORT" or "[IPV6]:PORT": 0, or -1. */
static int listen_parse(const char *s, struct sockaddr_storage *ss,
                        socklen_t *len, char *canon, size_t canonlen)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':'), *port = colon ? colon + 1 : s;
	char host[INET6_ADDRSTRLEN + 2], *end;
	size_t hostlen = colon ? (size_t)(colon - s) : 0;
	unsigned long n;

	errno = 0;
	n = strtoul(port, &end, 10);
	if (!isdigit((unsigned char)port[0]) || *end || errno || n < 1 ||
	    n > 65535 || hostlen >= sizeof(host) || (colon && hostlen == 0))
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (colon)
		snprintf(host, sizeof(host), "%.*s", (int)hostlen, s);
	else
		snprintf(host, sizeof(host), "127.0.0.1");
	if (host[0] == '[' && hostlen > 2 && host[hostlen - 1] == ']') {
		host[hostlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)n);
		*len = sizeof(*in6);
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(canon, canonlen, "[%s]:%lu", host, n);
		return 0;
	}
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -1;
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)n);
	*len = sizeof(*in);
	snprintf(canon, canonlen, "%s:%lu", host, n);
	return 0;
}

/* metrics_listen: where smmd serves GET /metrics (prom.c). */
static void conf_metrics_listen(struct conf_ctx *p, struct conf_node *v,
                                struct config *cfg)
{
	const char *s = conf_scalar(v);
	char canon[INET6_ADDRSTRLEN + 16];

	if (s == NULL) {
		conf_error(p, v,
		           "'metrics_listen' must be a string such as "
		           "127.0.0.1:9464%s",
		           YN(v)->type == YAML_SEQUENCE_NODE
		                   ? " (quote an IPv6 address: \"[::1]:9464\")"
		                   : "");
		return;
	}
	if (listen_parse(s, &cfg->metrics_addr, &cfg->metrics_addrlen, canon,
	                 sizeof(canon)) < 0) {
		conf_error(p, v,
		           "'metrics_listen' must be PORT, ADDRESS:PORT or "
		           "\"[IPV6]:PORT\" with a numeric address and a port "
		           "from 1 to 65535, not '%s'",
		           s);
		return;
	}
	free(cfg->metrics_listen);
	if ((cfg->metrics_listen = strdup(canon)) == NULL)
		conf_error(p, v, "out of memory");
}

static int is_pg_url(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	       strncmp(s, "postgres://", 11) == 0;
}

#ifdef HAVE_LIBPQ
/*
 * A password in the URL itself, as libpq reads it (user:password@, or
 * password= in any spelling). One it cannot read is refused at start,
 * in words that do not quote it.
 */
static int url_has_password(const char *s)
{
	PQconninfoOption *opts, *o;
	char *msg = NULL;
	int has = 0;

	if ((opts = PQconninfoParse(s, &msg)) == NULL) {
		PQfreemem(msg);
		return 0;
	}
	for (o = opts; o->keyword; o++)
		if ((strcmp(o->keyword, "password") == 0 ||
		     strcmp(o->keyword, "sslpassword") == 0) &&
		    o->val && o->val[0])
			has = 1;
	PQconninfoFree(opts);
	return has;
}
#else
/* A password in the URL itself: user:password@, or password=. */
static int url_has_password(const char *s)
{
	const char *rest = strchr(s, ':') + 3, *at = strchr(rest, '@'),
	           *slash = strchr(rest, '/');

	if (strstr(s, "password=") != NULL)
		return 1;
	if (at == NULL || (slash != NULL && slash < at))
		return 0;
	return memchr(rest, ':', (size_t)(at - rest)) != NULL;
}
#endif

/*
 * store: a postgresql:// URL; store_url_file: a file (or systemd
 * credential) holding one, for a URL with a password: the config file is
 * world-readable, and the URL is never logged.
 */
static void conf_store(struct conf_ctx *p, struct conf_node *v, const char *key,
                       struct config *cfg)
{
	unsigned char *url = NULL;
	size_t len = 0;
	const char *s;

	if (cfg->store_url != NULL) {
		conf_error(p, v, "give 'store' or 'store_url_file', not both");
		return;
	}
	if (strcmp(key, "store") == 0) {
		if (want_scalar(p, v, key, &s) < 0)
			return;
		if (strcmp(s, "sqlite") == 0)
			return;
		if (!is_pg_url(s))
			conf_error(p, v,
			           "'store' must be sqlite or a postgresql:// "
			           "URL, not '%s'",
			           s);
		else if (url_has_password(s))
			conf_error(p, v,
			           "'store': a URL with a password goes in a "
			           "file named by 'store_url_file', not in the "
			           "config");
		else if ((cfg->store_url = strdup(s)) == NULL)
			conf_error(p, v, "out of memory");
		return;
	}
	if (conf_secret(p, v, key, 1, &url, &len) < 0)
		return;
	if (!is_pg_url((char *)url) || strlen((char *)url) != len ||
	    strpbrk((char *)url, " \t\r\n") != NULL) {
		conf_error(p, v,
		           "'%s': the file must hold one postgresql:// URL",
		           key);
		conf_secret_free(url, len);
		return;
	}
	cfg->store_url = (char *)url;
}

/*
 * token_key_file: a file (or systemd credential) the same on every node
 * of a cluster, whose bytes make the key that seals channels' tokens in
 * PostgreSQL. Any text will do if it is long and random enough.
 */
static void conf_token_key(struct conf_ctx *p, struct conf_node *v,
                           const char *key, struct config *cfg)
{
	unsigned char *secret = NULL;
	size_t len = 0;

	cfg->token_key_at = v;
	if (conf_secret(p, v, key, 1, &secret, &len) < 0)
		return;
	if (len < TOKENSEAL_SECRET_MIN)
		conf_error(p, v,
		           "'%s': the file must hold at least %d bytes, "
		           "random (openssl rand -base64 48)",
		           key, TOKENSEAL_SECRET_MIN);
	else if (tokenseal_key(secret, len, cfg->token_key) < 0)
		conf_error(p, v, "'%s': cannot make a key of it", key);
	else
		cfg->has_token_key = 1;
	conf_secret_free(secret, len);
}

static void top_pair(struct conf_ctx *p, struct conf_node *k,
                     struct conf_node *v, void *arg)
{
	struct config *cfg = arg;
	const char *key = conf_scalar(k), *s;

	if (strcmp(key, "state_dir") == 0) {
		conf_path(p, v, key, &cfg->state_dir);
	} else if (strcmp(key, "store") == 0 ||
	           strcmp(key, "store_url_file") == 0) {
		conf_store(p, v, key, cfg);
	} else if (strcmp(key, "token_key_file") == 0) {
		conf_token_key(p, v, key, cfg);
	} else if (strcmp(key, "share_work") == 0) {
		conf_bool(p, v, key, &cfg->share_work);
		cfg->share_work_at = v;
	} else if (strcmp(key, "socket") == 0) {
		conf_path(p, v, key, &cfg->socket_path);
	} else if (strcmp(key, "control_group") == 0) {
		conf_group(p, v, key, &cfg->control_group, &cfg->control_gid);
	} else if (strcmp(key, "readonly_group") == 0) {
		conf_group(p, v, key, &cfg->readonly_group, &cfg->readonly_gid);
	} else if (strcmp(key, "approvers_group") == 0) {
		conf_group(p, v, key, &cfg->approvers_group,
		           &cfg->approvers_gid);
	} else if (strcmp(key, "require_approval") == 0) {
		conf_bool(p, v, key, &cfg->require_approval);
	} else if (strcmp(key, "max_in_flight") == 0) {
		conf_uint(p, v, key, 1, 10000, &cfg->max_in_flight);
	} else if (strcmp(key, "max_host_connections") == 0) {
		conf_uint(p, v, key, 1, 10000, &cfg->max_host_connections);
	} else if (strcmp(key, "shutdown_grace") == 0) {
		conf_duration(p, v, key, &cfg->shutdown_grace_ms);
	} else if (strcmp(key, "calendar") == 0) {
		conf_path(p, v, key, &cfg->calendar);
	} else if (strcmp(key, "catch_up") == 0) {
		conf_duration(p, v, key, &cfg->catch_up_ms);
	} else if (strcmp(key, "drill_channel") == 0) {
		conf_string(p, v, key, &cfg->drill_channel);
	} else if (strcmp(key, "horizon") == 0) {
		if (conf_duration(p, v, key, &cfg->horizon_ms) == 0 &&
		    (cfg->horizon_ms < 3600 * 1000 ||
		     cfg->horizon_ms > 366LL * 24 * 3600 * 1000))
			conf_error(p, v, "'horizon' must be from 1h to 366d");
	} else if (strcmp(key, "log_format") == 0) {
		if (want_scalar(p, v, key, &s) < 0)
			return;
		if (strcmp(s, "text") != 0 && strcmp(s, "json") != 0)
			conf_error(
			        p, v,
			        "'log_format' must be text or json, not '%s'",
			        s);
		cfg->log_json = strcmp(s, "json") == 0;
	} else if (strcmp(key, "metrics_listen") == 0) {
		conf_metrics_listen(p, v, cfg);
	} else if (strcmp(key, "channels") == 0) {
		conf_for_each_pair(p, v, "'channels'", channels_pair, cfg);
	} else if (conf_blackout_key(p, key, v, &cfg->blackouts)) {
		;
	} else if (conf_engage_key(p, key, v, &cfg->metrics)) {
		;
	} else if (strcmp(key, "metrics_in_flight") == 0) {
		conf_uint(p, v, key, 1, 64, &cfg->metrics_in_flight);
	} else {
		conf_error(p, k,
		           "unknown key '%s' (known: state_dir, store, "
		           "store_url_file, token_key_file, share_work, "
		           "socket, "
		           "control_group, readonly_group, approvers_group, "
		           "require_approval, max_in_flight, "
		           "max_host_connections, shutdown_grace, calendar, "
		           "catch_up, drill_channel, horizon, log_format, "
		           "metrics_listen, blackouts, quiet, holidays, "
		           "blackout_action, metrics, metrics_in_flight, "
		           "channels)",
		           key);
	}
}

/* Cross-channel checks: a notify target must exist and not notify back. */
static void check_notify(struct conf_ctx *p, struct config *cfg,
                         struct conf_node *root)
{
	for (size_t i = 0; i < cfg->nchannels; i++) {
		const struct channel *ch = &cfg->channels[i];

		if (ch->notify && config_channel(cfg, ch->notify) == NULL) {
			char *known = config_channel_names(cfg);

			conf_error(p, root,
			           "channel '%s': notify: unknown channel "
			           "'%s' (known: %s)",
			           ch->name, ch->notify, known ? known : "?");
			free(known);
		}
	}
	if (cfg->drill_channel &&
	    config_channel(cfg, cfg->drill_channel) == NULL)
		conf_error(p, root, "drill_channel: unknown channel '%s'",
		           cfg->drill_channel);
}

static const char *channel_name_at(const void *ctx, uint32_t pos)
{
	const struct config *cfg = ctx;

	return cfg->channels[pos].name;
}

/*
 * A calendar sync asks for a delivery's channel 200,000 times: a search
 * through 1,000 names each time was a third of a reload. Without memory
 * for the index, config_channel searches, as before.
 */
static void index_channels(struct config *cfg)
{
	hashtab_init(&cfg->channel_index, channel_name_at, cfg);
	for (size_t i = 0; i < cfg->nchannels; i++) {
		if (hashtab_find(&cfg->channel_index, cfg->channels[i].name,
		                 NULL))
			continue;
		if (hashtab_add(&cfg->channel_index, (uint32_t)i) < 0) {
			hashtab_free(&cfg->channel_index);
			return;
		}
	}
}

/* Once every key is read: what is required, defaults, cross-checks. */
static void config_finish(struct conf_ctx *p, struct config *cfg,
                          struct conf_node *root)
{
	if (cfg->state_dir == NULL)
		conf_error(p, root, "missing required key 'state_dir'");
	if (cfg->socket_path == NULL)
		cfg->socket_path = strdup("/run/smmd/smmd.sock");
	if (cfg->nchannels == 0)
		conf_error(p, root,
		           "no channels: add at least one under 'channels'");
	check_notify(p, cfg, root);
	if (cfg->token_key_at && cfg->store_url == NULL)
		conf_error(p, cfg->token_key_at,
		           "'token_key_file' is for several nodes on a "
		           "postgresql store: with SQLite the tokens stay in "
		           "state_dir");
	cfg->token_key_at = NULL;
	if (cfg->share_work_at && cfg->share_work && cfg->store_url == NULL)
		conf_error(p, cfg->share_work_at,
		           "'share_work' is for several nodes on a postgresql "
		           "store: with SQLite one node does all the work");
	cfg->share_work_at = NULL;
	/* A channel that says nothing follows the top level. */
	cfg->any_blackouts = cfg->blackouts != NULL;
	for (size_t i = 0; i < cfg->nchannels; i++) {
		if (cfg->channels[i].require_approval < 0)
			cfg->channels[i].require_approval =
			        cfg->require_approval;
		if (cfg->channels[i].metrics.n < 0)
			cfg->channels[i].metrics = cfg->metrics;
		cfg->any_blackouts |= cfg->channels[i].blackouts != NULL;
	}
	index_channels(cfg);
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
	struct conf_ctx p = {.file = path, .doc = &doc, .errs = errs};
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
	/* Posts compared at the same ages: an hour, a day, a week. */
	cfg->metrics = (struct engage_ages){
	        .n = 3,
	        .ms = {3600 * 1000, 24 * 3600 * 1000, 7 * 24 * 3600 * 1000}};
	cfg->metrics_in_flight = 2;
	cfg->max_host_connections = 0; /* 0: as many as max_in_flight */
	cfg->shutdown_grace_ms = 5 * 1000;
	cfg->catch_up_ms = 15 * 60 * 1000;
	cfg->horizon_ms = 14LL * 24 * 3600 * 1000;

	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		config_errors_add(errs, path, 1, 1, "the file is empty");
	else if (conf_for_each_pair(&p, CN(root), "the configuration", top_pair,
	                            cfg) == 0)
		config_finish(&p, cfg, CN(root));
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

		if (ch->pub && ch->pub->free_conf)
			ch->pub->free_conf(ch);
		engage_get_free(ch->engage_get);
		free(ch->name);
		free(ch->notify);
		free(ch->media_dir);
		free(ch->redirect_uri);
		free(ch->slots);
		free(ch->timezone);
		conf_blackouts_free(ch->blackouts);
	}
	conf_blackouts_free(cfg->blackouts);
	hashtab_free(&cfg->channel_index);
	free(cfg->channels);
	free(cfg->path);
	free(cfg->state_dir);
	if (cfg->store_url)
		conf_secret_free((unsigned char *)cfg->store_url,
		                 strlen(cfg->store_url));
	explicit_bzero(cfg->token_key, sizeof(cfg->token_key));
	free(cfg->socket_path);
	free(cfg->control_group);
	free(cfg->readonly_group);
	free(cfg->approvers_group);
	free(cfg->calendar);
	free(cfg->drill_channel);
	free(cfg->metrics_listen);
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
	uint32_t pos;

	if (hashtab_len(&cfg->channel_index) > 0)
		return hashtab_find(&cfg->channel_index, name, &pos)
		               ? &cfg->channels[pos]
		               : NULL;
	for (size_t i = 0; i < cfg->nchannels; i++)
		if (strcmp(cfg->channels[i].name, name) == 0)
			return &cfg->channels[i];
	return NULL;
}

const struct caltime_zone *config_channel_zone(const struct channel *ch,
                                               const char *calendar_zone)
{
	const struct caltime_zone *z = NULL;
	char *sys;

	if (ch && ch->timezone)
		z = caltime_zone(ch->timezone);
	if (z == NULL && calendar_zone)
		z = caltime_zone(calendar_zone);
	if (z == NULL && (sys = caltime_system_zone_name()) != NULL) {
		z = caltime_zone(sys);
		free(sys);
	}
	return z ? z : caltime_zone("UTC");
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
