/*
 * Mastodon: upload each media file (POST /api/v2/media, multipart), then
 * post the status (POST /api/v1/statuses) naming the uploaded media ids.
 *
 * One attempt is a chain of steps, kept in struct pub_step:
 *   for each media item: "fetch" (GET an http(s) URL from the post, behind
 *   the address guard) unless it is a file under media_dir, then "upload";
 *   finally "status".
 * Mastodon keeps an Idempotency-Key for an hour and answers a repeat with
 * the status it already made, so a retry (even after a crash mid-request)
 * cannot post twice: this endpoint is idempotent. A repeated upload only
 * leaves an unattached media file, which Mastodon deletes by itself.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "postid.h"
#include "pub_mastodon.h"
#include "publisher.h"

/* What Mastodon accepts on one status (its default instance limit). */
#define MASTODON_MAX_MEDIA 4

/* http.c's message when the address guard refused a media URL. */
#define GUARD_REFUSAL "refused to connect:"

static int mastodon_configure(struct conf_ctx *p, struct channel *ch,
                              const char *key, struct conf_node *v)
{
	struct mastodon_conf *mc = ch->pub_conf;

	if (mc == NULL && (mc = ch->pub_conf = calloc(1, sizeof(*mc))) == NULL)
		return 0;
	if (strcmp(key, "instance") == 0) {
		mc->instance_given = 1;
		if (conf_url(p, v, key, &mc->instance) == 0) {
			size_t n = strlen(mc->instance);

			/* "https://h/" + "/api/..." would give "//api". */
			while (n > 0 && mc->instance[n - 1] == '/')
				mc->instance[--n] = '\0';
		}
	} else if (strcmp(key, "token_file") == 0) {
		mc->token_given = 1;
		if (conf_secret(p, v, key, 1, &mc->token, &mc->token_len) ==
		            0 &&
		    (strpbrk((char *)mc->token, "\r\n") != NULL ||
		     mc->token_len > 512))
			/* Name the file, never its content. */
			conf_error(
			        p, v,
			        "'token_file': the token must be one line of "
			        "at most 512 bytes");
	} else if (strcmp(key, "visibility") == 0) {
		const char *s = conf_scalar(v);

		if (s == NULL ||
		    (strcmp(s, "public") != 0 && strcmp(s, "unlisted") != 0 &&
		     strcmp(s, "private") != 0 && strcmp(s, "direct") != 0))
			conf_error(p, v,
			           "'visibility' must be public, unlisted, "
			           "private or direct");
		else
			conf_string(p, v, key, &mc->visibility);
	} else if (strcmp(key, "language") == 0) {
		const char *s = conf_scalar(v);
		size_t n = s ? strlen(s) : 0;

		/* ISO 639: Mastodon rejects anything else with a 422. */
		if (n < 2 || n > 3 ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyz") != n)
			conf_error(p, v,
			           "'language' must be an ISO 639 code such "
			           "as en or de");
		else
			conf_string(p, v, key, &mc->language);
	} else
		return 0;
	return 1;
}

static void mastodon_check(struct conf_ctx *p, struct channel *ch,
                           struct conf_node *node)
{
	struct mastodon_conf *mc = ch->pub_conf;

	if (mc == NULL || !mc->instance_given)
		conf_error(p, node,
		           "channel '%s' has no 'instance' (the server's "
		           "base URL, e.g. https://mastodon.social)",
		           ch->name);
	if (mc == NULL || !mc->token_given)
		conf_error(p, node,
		           "channel '%s' has no 'token_file' (a file holding "
		           "the application's access token)",
		           ch->name);
}

static void mastodon_free(struct channel *ch)
{
	struct mastodon_conf *mc = ch->pub_conf;

	if (mc == NULL)
		return;
	free(mc->instance);
	conf_secret_free(mc->token, mc->token_len);
	free(mc->visibility);
	free(mc->language);
	free(mc);
	ch->pub_conf = NULL;
}

static int mastodon_idempotent(const struct channel *ch)
{
	return 1;
}

/* A media type from a file name's extension, or NULL. */
static const char *type_from_name(const char *name, size_t len)
{
	static const char *const types[][2] = {
	        {"png", "image/png"},   {"jpg", "image/jpeg"},
	        {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
	        {"webp", "image/webp"}, {"avif", "image/avif"},
	        {"heic", "image/heic"}, {"mp4", "video/mp4"},
	        {"m4v", "video/mp4"},   {"mov", "video/quicktime"},
	        {"webm", "video/webm"}, {"mp3", "audio/mpeg"},
	        {"ogg", "audio/ogg"},   {"oga", "audio/ogg"},
	        {"opus", "audio/ogg"},  {"wav", "audio/wav"},
	        {"flac", "audio/flac"}, {"m4a", "audio/mp4"},
	};
	const char *dot = NULL;

	for (size_t i = 0; i < len; i++)
		if (name[i] == '.')
			dot = name + i;
	if (dot == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i][0]) == len - (size_t)(dot + 1 - name) &&
		    strncasecmp(dot + 1, types[i][0], strlen(types[i][0])) == 0)
			return types[i][1];
	return NULL;
}

/* The last path segment of a URL (before any query), and its length. */
static const char *url_basename(const char *url, size_t *len)
{
	const char *path = strstr(url, "://"), *end, *slash;

	path = path ? strchr(path + 3, '/') : NULL;
	if (path == NULL) {
		*len = 0;
		return url;
	}
	end = path + strcspn(path, "?#");
	for (slash = end; slash > path && slash[-1] != '/'; slash--)
		;
	*len = (size_t)(end - slash);
	return slash;
}

/* A filename for the multipart part: safe to put between quotes. */
static void part_filename(const char *name, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)name[i];

		out[o++] = (isalnum(c) || c == '.' || c == '-' || c == '_')
		                   ? (char)c
		                   : '_';
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, cap, "media");
}

/* The media type without parameters, lowercased; 0 if it isn't one. */
static int clean_type(const char *ct, char *out, size_t cap)
{
	size_t n = 0;

	while (*ct == ' ')
		ct++;
	for (; *ct && *ct != ';' && *ct != ' ' && n + 1 < cap; ct++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*ct);

		if (!isalnum(c) && strchr("/.+-_", c) == NULL)
			return 0;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return n > 0 && strchr(out, '/') != NULL;
}

static int media_type_ok(const char *type)
{
	return strncmp(type, "image/", 6) == 0 ||
	       strncmp(type, "video/", 6) == 0 ||
	       strncmp(type, "audio/", 6) == 0;
}

/*
 * Read a media file from the channel's media_dir, up to the channel's cap.
 * This is a short blocking read on the loop thread: the file is local and
 * capped (media_max_size), and one read per upload costs less than handing
 * it to a worker thread. O_NONBLOCK only keeps open() from hanging on a
 * FIFO; the regular-file check below refuses one anyway.
 */
/* Errors that pass: the same read may well work a little later. */
static int transient_errno(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EIO ||
	       e == EINTR || e == EAGAIN;
}

static int read_media_file(const struct channel *ch, const char *name,
                           char **out, size_t *outlen, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd, ret = -1;

	if (ch->media_dir == NULL) {
		snprintf(err, errlen,
		         "media '%.64s' is a file name, but channel '%s' has "
		         "no media_dir",
		         name, ch->name);
		return -1;
	}
	if (!media_name_valid(name)) {
		snprintf(err, errlen,
		         "media '%.64s' is neither an http(s) URL nor a plain "
		         "file name",
		         name);
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", ch->media_dir,
	                     name) >= sizeof(path)) {
		snprintf(err, errlen, "media '%.64s': path too long", name);
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) <
	    0) {
		int e = errno;

		snprintf(err, errlen,
		         "media '%.64s': cannot open it in %.100s: %s", name,
		         ch->media_dir, strerror(e));
		return transient_errno(e) ? -EAGAIN : -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "media '%.64s' is not a regular file",
		         name);
		goto bad;
	}
	if (st.st_size == 0 || (size_t)st.st_size > ch->media_max_bytes) {
		snprintf(err, errlen,
		         "media '%.64s' is %lld bytes; allowed: 1 to %zu "
		         "(media_max_size)",
		         name, (long long)st.st_size, ch->media_max_bytes);
		goto bad;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL) {
		snprintf(err, errlen, "out of memory");
		ret = -EAGAIN;
		goto bad;
	}
	/* The file may change under us: never read past what we allocated. */
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0 && transient_errno(errno))
				ret = -EAGAIN;
			snprintf(err, errlen, "media '%.64s': %s", name,
			         r < 0 ? strerror(errno)
			               : "the file shrank while being read");
			goto bad;
		}
		len += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
bad:
	free(buf);
	close(fd);
	return ret;
}

/* Which request of the attempt this is, as noted in st->state. */
enum step_kind { STEP_FETCH, STEP_UPLOAD, STEP_STATUS };

static void set_step(struct pub_step *st, enum step_kind k)
{
	json_object_set_new(st->state, "step", json_integer(k));
}

static enum step_kind get_step(const struct pub_step *st)
{
	return (enum step_kind)json_integer_value(
	        json_object_get(st->state, "step"));
}

static json_t *media_ids(const struct pub_step *st)
{
	return json_object_get(st->state, "ids");
}

int mastodon_add_auth(const struct mastodon_conf *mc, struct curl_slist **h)
{
	char line[1024];

	if ((size_t)snprintf(line, sizeof(line), "Bearer %s", mc->token) >=
	    sizeof(line))
		return -1;
	return publisher_add_header(h, "Authorization", line);
}

static int build_fetch(const struct channel *ch, const char *url,
                       struct http_request *req, char *err, size_t errlen)
{
	snprintf(req->method, sizeof(req->method), "GET");
	/* Never the Authorization header: the media host is not Mastodon. */
	if ((req->url = strdup(url)) == NULL ||
	    publisher_add_header(&req->headers, "Accept",
	                         "image/*, video/*, audio/*") < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The URL came from a post, not from the admin: guard it. */
	req->guard = !ch->allow_private_media;
	req->max_body = ch->media_max_bytes;
	return 0;
}

/* A boundary that cannot occur in data (checked, not only likely). */
static int make_boundary(const char *data, size_t len, char *out, size_t cap)
{
	for (int tries = 0; tries < 8; tries++) {
		unsigned char rnd[16];
		size_t o;

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -1;
		o = (size_t)snprintf(out, cap, "smmd-");
		for (size_t i = 0; i < sizeof(rnd) && o + 3 <= cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%02x", rnd[i]);
		if (memmem(data, len, out, strlen(out)) == NULL)
			return 0;
	}
	return -1;
}

/*
 * multipart/form-data with one part, "file", built by hand: curl_mime
 * needs an easy handle, which only http.c has, at send time.
 */
static int build_upload(const struct channel *ch, const struct delivery_view *v,
                        struct pub_step *st, size_t i, struct http_request *req,
                        char *err, size_t errlen)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	const char *item = json_string_value(json_array_get(v->media, i));
	char boundary[48], filename[128], ctype[96], *head = NULL, *body;
	const char *name, *type;
	size_t namelen, headlen, tail;
	int n;

	if (st->blob == NULL) {
		/* A file under media_dir: no fetch step before this one. */
		if ((n = read_media_file(ch, item, &st->blob, &st->blob_len,
		                         err, errlen)) < 0)
			return n;
		if ((type = type_from_name(item, strlen(item))) == NULL) {
			snprintf(err, errlen,
			         "media '%.64s': unknown file type (expected "
			         "an image, video or audio extension)",
			         item);
			return -1;
		}
		free(st->blob_type);
		if ((st->blob_type = strdup(type)) == NULL)
			goto nomem;
		name = item;
		namelen = strlen(item);
	} else
		name = url_basename(item, &namelen);
	part_filename(name, namelen, filename, sizeof(filename));
	if (make_boundary(st->blob, st->blob_len, boundary, sizeof(boundary)) <
	    0) {
		snprintf(err, errlen, "cannot make a multipart boundary");
		return -EAGAIN;
	}
	n = asprintf(&head,
	             "--%s\r\n"
	             "Content-Disposition: form-data; name=\"file\"; "
	             "filename=\"%s\"\r\n"
	             "Content-Type: %s\r\n\r\n",
	             boundary, filename, st->blob_type);
	if (n < 0)
		goto nomem;
	headlen = (size_t)n;
	tail = 2 + 2 + strlen(boundary) + 4; /* \r\n--B--\r\n */
	if ((body = malloc(headlen + st->blob_len + tail + 1)) == NULL) {
		free(head);
		goto nomem;
	}
	memcpy(body, head, headlen);
	memcpy(body + headlen, st->blob, st->blob_len);
	snprintf(body + headlen + st->blob_len, tail + 1, "\r\n--%s--\r\n",
	         boundary);
	free(head);
	req->body = body;
	req->body_len = headlen + st->blob_len + tail;
	/* The bytes live on in the body: don't hold a second copy. */
	free(st->blob);
	st->blob = NULL;
	st->blob_len = 0;
	snprintf(ctype, sizeof(ctype), "multipart/form-data; boundary=%s",
	         boundary);
	if (asprintf(&req->url, "%s/api/v2/media", mc->instance) < 0) {
		req->url = NULL;
		goto nomem;
	}
	if (publisher_add_header(&req->headers, "Content-Type", ctype) < 0 ||
	    mastodon_add_auth(mc, &req->headers) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static int build_status(const struct channel *ch, const struct delivery_view *v,
                        struct pub_step *st, struct http_request *req,
                        char *err, size_t errlen)
{
	const struct mastodon_conf *mc = ch->pub_conf;
	json_t *o;
	char *status = NULL;

	/* The link goes at the end, where Mastodon builds its preview. */
	if (v->link && asprintf(&status, "%s\n\n%s", v->text, v->link) < 0)
		goto nomem;
	o = json_pack("{s:s, s:O}", "status", status ? status : v->text,
	              "media_ids", media_ids(st));
	free(status);
	if (o == NULL) {
		snprintf(err, errlen, "cannot encode the status as JSON");
		return -1;
	}
	if ((mc->visibility &&
	     json_object_set_new(o, "visibility", json_string(mc->visibility)) <
	             0) ||
	    (mc->language &&
	     json_object_set_new(o, "language", json_string(mc->language)) <
	             0)) {
		json_decref(o);
		goto nomem;
	}
	req->body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (req->body == NULL)
		goto nomem;
	req->body_len = strlen(req->body);
	if (asprintf(&req->url, "%s/api/v1/statuses", mc->instance) < 0) {
		req->url = NULL;
		goto nomem;
	}
	/* The same key on every retry: Mastodon answers a repeat with the
	 * status it already made. */
	if (publisher_add_header(&req->headers, "Content-Type",
	                         "application/json") < 0 ||
	    publisher_add_header(&req->headers, "Idempotency-Key",
	                         v->webhook_id) < 0 ||
	    mastodon_add_auth(mc, &req->headers) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}

static int mastodon_build(const struct channel *ch,
                          const struct delivery_view *v, struct pub_step *st,
                          int64_t now_ms, struct http_request *req, char *err,
                          size_t errlen)
{
	size_t nmedia = json_array_size(v->media), i;
	const char *item;

	if (nmedia > MASTODON_MAX_MEDIA) {
		snprintf(err, errlen,
		         "Mastodon takes at most %d media per status; the post "
		         "has %zu",
		         MASTODON_MAX_MEDIA, nmedia);
		return -1;
	}
	if (st->state == NULL &&
	    (st->state = json_pack("{s:[], s:i}", "ids", "step", 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	i = json_array_size(media_ids(st));
	if (i >= nmedia) {
		set_step(st, STEP_STATUS);
		return build_status(ch, v, st, req, err, errlen);
	}
	if ((item = json_string_value(json_array_get(v->media, i))) == NULL) {
		snprintf(err, errlen, "media %zu is not a string", i + 1);
		return -1;
	}
	if (url_is_http(item) && st->blob == NULL) {
		set_step(st, STEP_FETCH);
		return build_fetch(ch, item, req, err, errlen);
	}
	set_step(st, STEP_UPLOAD);
	return build_upload(ch, v, st, i, req, err, errlen);
}

/* Mastodon's {"error": "..."}, else the start of the body. */
static void error_text(const struct http_result *res, char *out, size_t cap)
{
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	const char *e = json_string_value(json_object_get(o, "error"));

	if (e)
		publisher_body_excerpt(e, strlen(e), out, cap);
	else
		publisher_body_excerpt(res->body, res->body_len, out, cap);
	json_decref(o);
}

/* Defence in depth: a reply that echoes the token must not leak it. */
static void scrub_token(const struct mastodon_conf *mc, struct verdict *out)
{
	if (mc->token_len > 0)
		publisher_redact(out->reason, (const char *)mc->token);
}

/* "what: reason", cut to fit (the end of the reason is what goes). */
static void prefix_reason(struct verdict *out, const char *what)
{
	char r[sizeof(out->reason)];
	const char *parts[3] = {what, ": ", r};
	size_t cap = sizeof(out->reason), n = 0;

	memcpy(r, out->reason, sizeof(r));
	for (size_t k = 0; k < 3; k++)
		for (const char *c = parts[k]; *c && n + 1 < cap; c++)
			out->reason[n++] = *c;
	out->reason[n] = '\0';
}

/*
 * A reply from the Mastodon API (upload or status) that is not a 2xx:
 * 401/403 and 422 fail with Mastodon's own words; the rest as any HTTP.
 */
static void api_error(const struct http_result *res, int64_t now_ms,
                      const char *what, struct verdict *out)
{
	char text[160];

	publisher_classify_http(res, now_ms, out);
	if (res->status == 401 || res->status == 403) {
		error_text(res, text, sizeof(text));
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld: the access token was refused (check "
		         "token_file)%s%s",
		         res->status, text[0] ? ": " : "", text);
	} else if (res->status == 422 ||
	           (out->kind == PUBLISH_FAILED && res->status >= 400)) {
		error_text(res, text, sizeof(text));
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s",
		         res->status, text[0] ? ": " : "", text);
	}
	prefix_reason(out, what);
}

static void classify_fetch(const struct channel *ch,
                           const struct delivery_view *v, struct pub_step *st,
                           const struct http_result *res, int64_t now_ms,
                           struct verdict *out)
{
	size_t i = json_array_size(media_ids(st)), namelen;
	const char *url = json_string_value(json_array_get(v->media, i));
	const char *name = url_basename(url, &namelen), *guess;
	char what[128], type[80];

	snprintf(what, sizeof(what), "fetching media %zu (%.80s)", i + 1, url);
	if (res->status == 0 && res->error &&
	    strncmp(res->error, GUARD_REFUSAL, strlen(GUARD_REFUSAL)) == 0) {
		/* The URL points inside our network: it will every time. */
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason), "%s", res->error);
		prefix_reason(out, what);
		return;
	}
	if (res->status == 0 && res->code == CURLE_WRITE_ERROR) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "larger than media_max_size (%zu bytes)",
		         ch->media_max_bytes);
		prefix_reason(out, what);
		return;
	}
	publisher_classify_http(res, now_ms, out);
	if (out->kind != PUBLISH_OK) {
		prefix_reason(out, what);
		return;
	}
	/* Keep the server's type for the upload; Mastodon checks it. */
	if (res->content_type == NULL ||
	    !clean_type(res->content_type, type, sizeof(type)) ||
	    strcmp(type, "application/octet-stream") == 0) {
		if ((guess = type_from_name(name, namelen)) == NULL) {
			out->kind = PUBLISH_FAILED;
			snprintf(out->reason, sizeof(out->reason),
			         "no usable Content-Type and no known file "
			         "extension");
			prefix_reason(out, what);
			return;
		}
		snprintf(type, sizeof(type), "%s", guess);
	}
	if (!media_type_ok(type)) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "it is '%s', not an image, video or audio file", type);
		prefix_reason(out, what);
		return;
	}
	if (res->body_len == 0) {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason), "the file is empty");
		prefix_reason(out, what);
		return;
	}
	free(st->blob);
	free(st->blob_type);
	st->blob = malloc(res->body_len);
	st->blob_type = strdup(type);
	if (st->blob == NULL || st->blob_type == NULL) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		prefix_reason(out, what);
		return;
	}
	memcpy(st->blob, res->body, res->body_len);
	st->blob_len = res->body_len;
	st->n++;
	out->kind = PUBLISH_NEXT;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, %zu bytes of %s",
	         res->status, st->blob_len, type);
}

/* A JSON string or integer field as text; "" if absent. */
static void field_text(json_t *o, const char *key, char *out, size_t cap)
{
	json_t *f = json_object_get(o, key);

	if (json_is_string(f))
		snprintf(out, cap, "%s", json_string_value(f));
	else if (json_is_integer(f))
		snprintf(out, cap, "%" JSON_INTEGER_FORMAT,
		         json_integer_value(f));
	else
		out[0] = '\0';
}

static void classify_upload(const struct channel *ch,
                            const struct delivery_view *v, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	size_t i = json_array_size(media_ids(st));
	char what[64], id[128];
	json_t *o;

	snprintf(what, sizeof(what), "uploading media %zu", i + 1);
	if (res->status < 200 || res->status > 299) {
		api_error(res, now_ms, what, out);
		return;
	}
	/* 202: stored but still being processed; the id is good already. */
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	field_text(o, "id", id, sizeof(id));
	json_decref(o);
	if (id[0] == '\0') {
		out->kind = PUBLISH_FAILED;
		snprintf(out->reason, sizeof(out->reason),
		         "HTTP %ld without a media id", res->status);
		prefix_reason(out, what);
		return;
	}
	if (json_array_append_new(media_ids(st), json_string(id)) < 0) {
		out->kind = PUBLISH_RETRY;
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return;
	}
	st->n++;
	out->kind = PUBLISH_NEXT;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, media id %s",
	         res->status, id);
}

static void classify_status(const struct channel *ch,
                            const struct delivery_view *v, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	json_t *o;
	char text[160];

	if (res->status < 200 || res->status > 299) {
		api_error(res, now_ms, "posting the status", out);
		/*
		 * An upload answered 202 may still be processing when the
		 * status refers to it: Mastodon says so with a 422 that
		 * will pass once it is done.
		 */
		if (res->status == 422) {
			error_text(res, text, sizeof(text));
			if (strcasestr(text, "process") != NULL)
				out->kind = PUBLISH_RETRY;
		}
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	field_text(o, "id", out->remote_id, sizeof(out->remote_id));
	field_text(o, "url", out->remote_url, sizeof(out->remote_url));
	if (out->remote_url[0] == '\0')
		field_text(o, "uri", out->remote_url, sizeof(out->remote_url));
	json_decref(o);
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld%s%s", res->status,
	         out->remote_id[0] ? ", status " : "", out->remote_id);
}

static void mastodon_classify(const struct channel *ch,
                              const struct delivery_view *v,
                              struct pub_step *st,
                              const struct http_result *res, int64_t now_ms,
                              struct verdict *out)
{
	switch (get_step(st)) {
	case STEP_FETCH:
		classify_fetch(ch, v, st, res, now_ms, out);
		break;
	case STEP_UPLOAD:
		classify_upload(ch, v, st, res, now_ms, out);
		break;
	case STEP_STATUS:
		classify_status(ch, v, st, res, now_ms, out);
		break;
	}
	scrub_token(ch->pub_conf, out);
}

const struct publisher_ops pub_mastodon = {
        .name = "mastodon",
        .keys = "instance, token_file, visibility, language",
        .configure = mastodon_configure,
        .check = mastodon_check,
        .free_conf = mastodon_free,
        .idempotent = mastodon_idempotent,
        .build_request = mastodon_build,
        .classify = mastodon_classify,
        .engage = &mastodon_engage,
};
