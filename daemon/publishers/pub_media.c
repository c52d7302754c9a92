/*
 * Media steps shared by the drivers that upload files (see pub_media.h).
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
#include "pub_media.h"

/* http.c's message when the address guard refused a media URL. */
#define GUARD_REFUSAL "refused to connect:"

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

/* Errors that pass: the same read may well work a little later. */
static int transient_errno(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EIO ||
	       e == EINTR || e == EAGAIN;
}

/*
 * Read a media file from the channel's media_dir, up to the channel's cap.
 * This is a short blocking read on the loop thread: the file is local and
 * capped (media_max_size), and one read per upload costs less than handing
 * it to a worker thread. O_NONBLOCK only keeps open() from hanging on a
 * FIFO; the regular-file check below refuses one anyway.
 */
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

int pub_media_fetch_request(const struct channel *ch, const char *url,
                            struct http_request *req, char *err, size_t errlen)
{
	snprintf(req->method, sizeof(req->method), "GET");
	/* Never the Authorization header: the media host is not Mastodon. */
	if ((req->url = strdup(url)) == NULL ||
	    publisher_add_header(&req->headers, "Accept",
	                         "image/*, video/*, audio/*") < 0) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
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

int pub_media_next(const struct delivery_view *v, struct pub_step *st,
                   const char *network, unsigned max, const char *what,
                   const char *list, size_t *i, const char **item, char *err,
                   size_t errlen)
{
	size_t nmedia = json_array_size(v->media);

	if (nmedia > max) {
		snprintf(err, errlen,
		         "%s takes at most %u %s per post; the post has %zu",
		         network, max, what, nmedia);
		return -1;
	}
	if (st->state == NULL &&
	    (st->state = json_pack("{s:[], s:i}", list, "step", 0)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	if ((*i = json_array_size(json_object_get(st->state, list))) >= nmedia)
		return 0;
	if ((*item = json_string_value(json_array_get(v->media, *i))) == NULL) {
		snprintf(err, errlen, "media %zu is not a string", *i + 1);
		return -1;
	}
	return 1;
}

int pub_media_needs_fetch(const char *item, const struct pub_step *st)
{
	return url_is_http(item) && st->blob == NULL;
}

int pub_media_load_file(const struct channel *ch, const char *name,
                        struct pub_step *st, char *err, size_t errlen)
{
	const char *type;
	int n;

	free(st->blob);
	st->blob = NULL;
	if ((n = read_media_file(ch, name, &st->blob, &st->blob_len, err,
	                         errlen)) < 0)
		return n;
	if ((type = type_from_name(name, strlen(name))) == NULL) {
		snprintf(err, errlen,
		         "media '%.64s': unknown file type (expected an image, "
		         "video or audio extension)",
		         name);
		return -1;
	}
	free(st->blob_type);
	if ((st->blob_type = strdup(type)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return 0;
}

/* The media file's type as the server said, else from its name; 0 if none. */
static int fetched_type(const struct http_result *res, const char *url,
                        char *type, size_t cap)
{
	size_t namelen;
	const char *name = url_basename(url, &namelen), *guess;

	if (res->content_type != NULL &&
	    clean_type(res->content_type, type, cap) &&
	    strcmp(type, "application/octet-stream") != 0)
		return 1;
	if ((guess = type_from_name(name, namelen)) == NULL)
		return 0;
	snprintf(type, cap, "%s", guess);
	return 1;
}

/* out becomes kind with "what: reason". */
static void media_verdict(struct verdict *out, enum verdict_kind kind,
                          const char *what, const char *reason)
{
	out->kind = kind;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
	publisher_prefix_reason(out, what);
}

void pub_media_fetched(const struct channel *ch, size_t n, const char *url,
                       struct pub_step *st, const struct http_result *res,
                       int64_t now_ms, struct verdict *out)
{
	char what[128], type[80], why[160];

	/* A GET of someone's file: asking again publishes nothing. */
	out->repeatable = 1;
	snprintf(what, sizeof(what), "fetching media %zu (%.80s)", n, url);
	if (res->status == 0 && res->error &&
	    strncmp(res->error, GUARD_REFUSAL, strlen(GUARD_REFUSAL)) == 0)
		/* The URL points inside our network: it will every time. */
		return media_verdict(out, PUBLISH_FAILED, what, res->error);
	if (res->status == 0 && res->code == CURLE_WRITE_ERROR) {
		snprintf(why, sizeof(why),
		         "larger than media_max_size (%zu bytes)",
		         ch->media_max_bytes);
		return media_verdict(out, PUBLISH_FAILED, what, why);
	}
	publisher_classify_http(res, now_ms, out);
	if (out->kind != PUBLISH_OK)
		return publisher_prefix_reason(out, what);
	/* Keep the server's type for the upload; networks check it. */
	if (!fetched_type(res, url, type, sizeof(type)))
		return media_verdict(out, PUBLISH_FAILED, what,
		                     "no usable Content-Type and no known "
		                     "file extension");
	if (!media_type_ok(type)) {
		snprintf(why, sizeof(why),
		         "it is '%.60s', not an image, video or audio file",
		         type);
		return media_verdict(out, PUBLISH_FAILED, what, why);
	}
	if (res->body_len == 0)
		return media_verdict(out, PUBLISH_FAILED, what,
		                     "the file is empty");
	free(st->blob);
	free(st->blob_type);
	st->blob = malloc(res->body_len);
	st->blob_type = strdup(type);
	if (st->blob == NULL || st->blob_type == NULL)
		return media_verdict(out, PUBLISH_RETRY, what, "out of memory");
	memcpy(st->blob, res->body, res->body_len);
	st->blob_len = res->body_len;
	st->n++;
	out->kind = PUBLISH_NEXT;
	snprintf(out->reason, sizeof(out->reason), "HTTP %ld, %zu bytes of %s",
	         res->status, st->blob_len, type);
}

/*
 * multipart/form-data built by hand: curl_mime needs an easy handle,
 * which only http.c has, at send time.
 */
int pub_media_multipart(struct pub_step *st, const char *field,
                        const char *item, struct http_request *req, char *err,
                        size_t errlen)
{
	char boundary[48], filename[128], ctype[96], *head = NULL, *body;
	const char *name = item;
	size_t namelen = strlen(item), headlen, tail;
	int n;

	if (url_is_http(item))
		name = url_basename(item, &namelen);
	part_filename(name, namelen, filename, sizeof(filename));
	if (make_boundary(st->blob, st->blob_len, boundary, sizeof(boundary)) <
	    0) {
		snprintf(err, errlen, "cannot make a multipart boundary");
		return -EAGAIN;
	}
	n = asprintf(&head,
	             "--%s\r\n"
	             "Content-Disposition: form-data; name=\"%s\"; "
	             "filename=\"%s\"\r\n"
	             "Content-Type: %s\r\n\r\n",
	             boundary, field, filename,
	             st->blob_type ? st->blob_type
	                           : "application/octet-stream");
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
	if (publisher_add_header(&req->headers, "Content-Type", ctype) < 0)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -EAGAIN;
}
