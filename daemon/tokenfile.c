#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tokenfile.h"

int tokenfile_path(const char *state_dir, const char *channel, char *out,
                   size_t cap)
{
	int n = snprintf(out, cap, "%s/auth/%s", state_dir, channel);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int tokenfile_dir(const char *state_dir)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/auth", state_dir) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void wipe_free(char *s)
{
	if (s == NULL)
		return;
	/* Tokens are secrets: leave no copy in freed memory. */
	explicit_bzero(s, strlen(s));
	free(s);
}

void auth_tokens_clear(struct auth_tokens *t)
{
	wipe_free(t->access);
	wipe_free(t->refresh);
	json_decref(t->extra);
	*t = (struct auth_tokens){.access_expires_ms = -1,
	                          .refresh_expires_ms = -1};
}

static int dup_opt(char **out, const char *s)
{
	*out = s ? strdup(s) : NULL;
	return s && *out == NULL ? -ENOMEM : 0;
}

int auth_tokens_copy(struct auth_tokens *dst, const struct auth_tokens *src)
{
	auth_tokens_clear(dst);
	dst->access_expires_ms = src->access_expires_ms;
	dst->refresh_expires_ms = src->refresh_expires_ms;
	if (dup_opt(&dst->access, src->access) < 0 ||
	    dup_opt(&dst->refresh, src->refresh) < 0 ||
	    (src->extra && (dst->extra = json_deep_copy(src->extra)) == NULL)) {
		auth_tokens_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

static int64_t time_or_none(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : -1;
}

/* o (a token file's object) into t; where says where, for err. */
static int tokens_of(json_t *o, const char *where, struct auth_tokens *t,
                     int64_t *saved_ms, char *err, size_t errlen)
{
	json_t *extra = json_object_get(o, "extra");
	const char *a = json_string_value(json_object_get(o, "access_token"));
	const char *r = json_string_value(json_object_get(o, "refresh_token"));

	if (!json_is_object(o) || (a == NULL && r == NULL)) {
		snprintf(err, errlen, "%s: no access_token or refresh_token",
		         where);
		return -EINVAL;
	}
	if (dup_opt(&t->access, a) < 0 || dup_opt(&t->refresh, r) < 0 ||
	    (json_is_object(extra) &&
	     (t->extra = json_deep_copy(extra)) == NULL)) {
		auth_tokens_clear(t);
		return -ENOMEM;
	}
	t->access_expires_ms = time_or_none(o, "access_expires_ms");
	t->refresh_expires_ms = time_or_none(o, "refresh_expires_ms");
	if (saved_ms)
		*saved_ms = time_or_none(o, "saved_ms");
	return 0;
}

int tokenfile_read(const char *path, struct auth_tokens *t, int64_t *saved_ms,
                   char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;
	int ret;

	auth_tokens_clear(t);
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		if (access(path, F_OK) < 0)
			return -errno;
		snprintf(err, errlen, "%s:%d:%d: %s", path, je.line, je.column,
		         je.text);
		return -EINVAL;
	}
	ret = tokens_of(o, path, t, saved_ms, err, errlen);
	json_decref(o);
	return ret;
}

int tokenfile_decode(const char *text, const char *where, struct auth_tokens *t,
                     int64_t *saved_ms, char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;
	int ret;

	auth_tokens_clear(t);
	/* The text is a secret: the error says where, never what. */
	if ((o = json_loads(text, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(err, errlen, "%s: not a token file (line %d)", where,
		         je.line);
		return -EINVAL;
	}
	ret = tokens_of(o, where, t, saved_ms, err, errlen);
	json_decref(o);
	return ret;
}

char *tokenfile_encode(const struct auth_tokens *t, int64_t saved_ms)
{
	json_t *o = json_object();
	char *text;

	if (o == NULL)
		return NULL;
	if (t->access)
		json_object_set_new(o, "access_token", json_string(t->access));
	if (t->refresh)
		json_object_set_new(o, "refresh_token",
		                    json_string(t->refresh));
	if (t->access_expires_ms >= 0)
		json_object_set_new(o, "access_expires_ms",
		                    json_integer(t->access_expires_ms));
	if (t->refresh_expires_ms >= 0)
		json_object_set_new(o, "refresh_expires_ms",
		                    json_integer(t->refresh_expires_ms));
	if (t->extra)
		json_object_set(o, "extra", t->extra);
	if (saved_ms >= 0)
		json_object_set_new(o, "saved_ms", json_integer(saved_ms));
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	return text;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync the folder holding path, so the rename itself is durable. */
static int sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, r = 0;

	if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
		return -EINVAL;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int tokenfile_write(const char *path, const char *text)
{
	char tmp[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* A .new left by a crash is stale: the rename never happened. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0)
		return -errno;
	if ((r = write_all(fd, text, strlen(text))) == 0 &&
	    (r = write_all(fd, "\n", 1)) == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	return sync_dir_of(path);
}
