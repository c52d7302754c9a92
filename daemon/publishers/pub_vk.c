/*
 * VK: wall.post to a community's wall as the community (owner_id=-GROUP,
 * from_group=1), API version 5.199 (the v parameter), with the access
 * token of a user who administers the community: VK documents wall.post
 * and the wall photo upload for user tokens (rights wall, photos; offline
 * for one that does not expire), and answers a community token with
 * error 27:
 *   https://dev.vk.com/en/method/wall.post
 *   https://dev.vk.com/en/api/upload/wall-photo
 *   https://dev.vk.com/en/reference/errors
 *
 * Every call is POST https://api.vk.com/method/METHOD with a form body
 * holding access_token and v: the token never goes into a URL, which a
 * proxy or a log might keep. One attempt is a chain of steps:
 *   for each photo: "fetch" (GET an http(s) URL from the post, behind the
 *   address guard) unless it is a file under media_dir;
 *   photos.getWallUploadServer(group_id) → upload_url; "upload" (POST
 *   multipart "photo" to upload_url → {server, photo, hash});
 *   photos.saveWallPhoto(group_id, photo, server, hash) → [{id, owner_id}];
 *   finally wall.post with attachments "photo{owner_id}_{id},...,LINK".
 *
 * VK answers HTTP 200 even for errors: {"error":{"error_code",
 * "error_msg"}}. VK drops no repeated wall.post: the post step is sent
 * once (req->once) and an unknown fate leaves the delivery "unknown".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http.h"
#include "pub_form.h"
#include "pub_media.h"
#include "pub_vk.h"
#include "pub_token.h"
#include "publisher.h"

/* wall.post takes at most 10 media. */
#define VK_MAX_PHOTOS 10

static int vk_configure(struct conf_ctx *p, struct channel *ch, const char *key,
                        struct conf_node *v)
{
	struct vk_conf *vc = ch->pub_conf;
	const char *s, *d;

	if (vc == NULL && (vc = ch->pub_conf = calloc(1, sizeof(*vc))) == NULL)
		return 0;
	if (strcmp(key, "token_file") == 0) {
		vc->token_given = 1;
		pub_token_file(p, v, key, &vc->token, &vc->token_len);
	} else if (strcmp(key, "group_id") == 0 ||
	           strcmp(key, "owner_id") == 0) {
		/* group_id: 123; owner_id: -123, VK's sign for a community. */
		s = conf_scalar(v);
		d = s;
		if (s != NULL && key[0] == 'o')
			d = s[0] == '-' ? s + 1 : NULL;
		if (vc->group_given)
			conf_error(p, v,
			           "give 'group_id' or 'owner_id', not both");
		else if (d == NULL || d[0] == '0' || d[0] == '\0' ||
		         strspn(d, "0123456789") != strlen(d) || strlen(d) > 18)
			conf_error(
			        p, v, "%s",
			        key[0] == 'o'
			                ? "'owner_id' must be the community's "
			                  "numeric id with a minus sign, e.g. "
			                  "-123456"
			                : "'group_id' must be the community's "
			                  "numeric id, e.g. 123456");
		else
			snprintf(vc->group, sizeof(vc->group), "%s", d);
		vc->group_given = 1;
	} else if (strcmp(key, "api_url") == 0) {
		if (conf_url(p, v, key, &vc->api_url) == 0) {
			size_t n = strlen(vc->api_url);

			while (n > 0 && vc->api_url[n - 1] == '/')
				vc->api_url[--n] = '\0';
		}
	} else if (strcmp(key, "api_version") == 0) {
		s = conf_scalar(v);
		if (s == NULL || strncmp(s, "5.", 2) != 0 || s[2] == '\0' ||
		    strspn(s + 2, "0123456789") != strlen(s + 2))
			conf_error(
			        p, v,
			        "'api_version' must be a VK API version such "
			        "as %s",
			        VK_API_VERSION);
		else
			conf_string(p, v, key, &vc->api_version);
	} else
		return 0;
	return 1;
}

static void vk_check(struct conf_ctx *p, struct channel *ch,
                     struct conf_node *node)
{
	struct vk_conf *vc = ch->pub_conf;

	if (vc == NULL || !vc->token_given)
		conf_error(p, node,
		           "channel '%s' has no 'token_file' (a file holding "
		           "a community admin's access token)",
		           ch->name);
	if (vc == NULL || !vc->group_given)
		conf_error(p, node,
		           "channel '%s' has no 'group_id' (the community's "
		           "numeric id)",
		           ch->name);
	if (vc == NULL)
		return;
	if ((vc->api_url == NULL &&
	     (vc->api_url = strdup(VK_API_URL)) == NULL) ||
	    (vc->api_version == NULL &&
	     (vc->api_version = strdup(VK_API_VERSION)) == NULL))
		conf_error(p, node, "out of memory");
}

static void vk_free(struct channel *ch)
{
	struct vk_conf *vc = ch->pub_conf;

	if (vc == NULL)
		return;
	free(vc->api_url);
	free(vc->api_version);
	conf_secret_free(vc->token, vc->token_len);
	free(vc);
	ch->pub_conf = NULL;
}

static int vk_idempotent(const struct channel *ch)
{
	(void)ch;
	return 0;
}

int vk_call_begin(const struct channel *ch, const char *method,
                  struct http_request *req, FILE **f, int *first)
{
	const struct vk_conf *vc = ch->pub_conf;

	*first = 1;
	if (asprintf(&req->url, "%s/%s", vc->api_url, method) < 0) {
		req->url = NULL;
		return -1;
	}
	if ((*f = open_memstream(&req->body, &req->body_len)) == NULL)
		return -1;
	pub_form_add(*f, first, "access_token", (const char *)vc->token);
	pub_form_add(*f, first, "v", vc->api_version);
	return 0;
}

int vk_call_end(struct http_request *req, FILE *f)
{
	if (fclose(f) != 0)
		return -1;
	return publisher_add_header(&req->headers, "Content-Type",
	                            "application/x-www-form-urlencoded") < 0
	               ? -1
	               : 0;
}

int vk_error(const struct channel *ch, const struct http_result *res,
             long *code, char *msg, size_t cap)
{
	const struct vk_conf *vc = ch->pub_conf;
	json_t *o =
	        json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	json_t *e = json_object_get(o, "error");
	const char *m;

	if (!json_is_object(e)) {
		json_decref(o);
		return 0;
	}
	*code = (long)json_integer_value(json_object_get(e, "error_code"));
	m = json_string_value(json_object_get(e, "error_msg"));
	publisher_body_excerpt(m ? m : "", m ? strlen(m) : 0, msg, cap);
	/* Its request_params echo access_token: never quote them. */
	if (vc->token_len > 0)
		publisher_redact(msg, (const char *)vc->token);
	json_decref(o);
	return 1;
}

/* out's reason, cut to fit: the end of a long message is what goes. */
static void set_reason(struct verdict *out, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void set_reason(struct verdict *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* Which request of the attempt this is, as noted in st->state. */
enum step_kind { STEP_FETCH, STEP_SERVER, STEP_UPLOAD, STEP_SAVE, STEP_POST };

/* The saved photos so far as "photo{owner_id}_{id}". */
static json_t *photos(const struct pub_step *st)
{
	return json_object_get(st->state, "photos");
}

/* Finish a method call's request. 0, or -EAGAIN. */
static int call_done(struct http_request *req, FILE *f, int r, char *err,
                     size_t errlen)
{
	if (f != NULL && vk_call_end(req, f) < 0)
		r = -1;
	if (r < 0) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return 0;
}

static int build_server(const struct channel *ch, struct http_request *req,
                        char *err, size_t errlen)
{
	const struct vk_conf *vc = ch->pub_conf;
	FILE *f = NULL;
	int first, r;

	r = vk_call_begin(ch, "photos.getWallUploadServer", req, &f, &first);
	if (r == 0)
		pub_form_add(f, &first, "group_id", vc->group);
	return call_done(req, f, r, err, errlen);
}

/* VK's wall photos: JPG, PNG, GIF. */
static int photo_type_ok(const char *type)
{
	return type != NULL && (strcasecmp(type, "image/jpeg") == 0 ||
	                        strcasecmp(type, "image/png") == 0 ||
	                        strcasecmp(type, "image/gif") == 0);
}

static int build_upload(const struct channel *ch, const struct delivery_view *v,
                        struct pub_step *st, size_t i, struct http_request *req,
                        char *err, size_t errlen)
{
	const char *item = json_string_value(json_array_get(v->media, i));
	int r;

	if (st->blob == NULL &&
	    (r = pub_media_load_file(ch, item, st, err, errlen)) < 0)
		return r;
	if (!photo_type_ok(st->blob_type)) {
		snprintf(err, errlen,
		         "media %zu is %s: VK's wall takes JPG, PNG or GIF "
		         "photos",
		         i + 1, st->blob_type ? st->blob_type : "of no type");
		return -1;
	}
	if ((r = pub_media_multipart(st, "photo", item, req, err, errlen)) < 0)
		return r;
	req->url = strdup(
	        json_string_value(json_object_get(st->state, "upload_url")));
	/* The URL came from VK's reply, not the admin: guard it. No token:
	 * the upload server does not take one. */
	req->guard = !ch->allow_private_media;
	if (req->url == NULL) {
		snprintf(err, errlen, "out of memory");
		return -EAGAIN;
	}
	return 0;
}

static int build_save(const struct channel *ch, const struct pub_step *st,
                      struct http_request *req, char *err, size_t errlen)
{
	const struct vk_conf *vc = ch->pub_conf;
	json_t *up = json_object_get(st->state, "uploaded");
	FILE *f = NULL;
	int first, r;

	r = vk_call_begin(ch, "photos.saveWallPhoto", req, &f, &first);
	if (r == 0) {
		pub_form_add(f, &first, "group_id", vc->group);
		pub_form_add(f, &first, "photo",
		             json_string_value(json_object_get(up, "photo")));
		pub_form_add(f, &first, "server",
		             json_string_value(json_object_get(up, "server")));
		pub_form_add(f, &first, "hash",
		             json_string_value(json_object_get(up, "hash")));
	}
	return call_done(req, f, r, err, errlen);
}

static int build_post(const struct channel *ch, const struct delivery_view *v,
                      const struct pub_step *st, struct http_request *req,
                      char *err, size_t errlen)
{
	const struct vk_conf *vc = ch->pub_conf;
	char owner[32], *att = NULL;
	size_t attlen = 0, i;
	FILE *f = NULL, *a;
	json_t *ph;
	int first, r;

	snprintf(owner, sizeof(owner), "-%s", vc->group);
	if ((a = open_memstream(&att, &attlen)) == NULL)
		return call_done(req, NULL, -1, err, errlen);
	json_array_foreach (photos(st), i, ph)
		fprintf(a, "%s%s", i ? "," : "", json_string_value(ph));
	/* The link goes last: VK builds its snippet from it. */
	if (v->link)
		fprintf(a, "%s%s", json_array_size(photos(st)) ? "," : "",
		        v->link);
	r = fclose(a) == 0 ? 0 : -1;
	if (r == 0)
		r = vk_call_begin(ch, "wall.post", req, &f, &first);
	if (r == 0) {
		pub_form_add(f, &first, "owner_id", owner);
		pub_form_add(f, &first, "from_group", "1");
		if (v->text[0])
			pub_form_add(f, &first, "message", v->text);
		if (attlen > 0)
			pub_form_add(f, &first, "attachments", att);
	}
	free(att);
	/* VK drops no repeat: never let curl send it twice on its own. */
	req->once = 1;
	return call_done(req, f, r, err, errlen);
}

static int vk_build(const struct channel *ch, const struct delivery_view *v,
                    struct pub_step *st, int64_t now_ms,
                    struct http_request *req, char *err, size_t errlen)
{
	size_t i;
	const char *item;
	int r = pub_media_next(v, st, "VK", VK_MAX_PHOTOS, "photos", "photos",
	                       &i, &item, err, errlen);

	(void)now_ms;
	if (r < 0)
		return r;
	if (r == 0) {
		pub_step_set(st, STEP_POST);
		return build_post(ch, v, st, req, err, errlen);
	}
	if (json_object_get(st->state, "uploaded") != NULL) {
		pub_step_set(st, STEP_SAVE);
		return build_save(ch, st, req, err, errlen);
	}
	if (json_object_get(st->state, "upload_url") != NULL) {
		pub_step_set(st, STEP_UPLOAD);
		return build_upload(ch, v, st, i, req, err, errlen);
	}
	if (pub_media_needs_fetch(item, st)) {
		pub_step_set(st, STEP_FETCH);
		return pub_media_fetch_request(ch, item, req, err, errlen);
	}
	pub_step_set(st, STEP_SERVER);
	return build_server(ch, req, err, errlen);
}

/*
 * A VK error code's verdict: the token refused → needs auth; too many
 * requests, flood control, rate limit, captcha, internal errors → retry,
 * after a wait that fits each; anything else (100: a bad parameter, 214:
 * posting denied, ...) → failed with VK's words.
 */
static void judge_code(const struct channel *ch, long code, const char *msg,
                       struct verdict *out)
{
	out->kind = PUBLISH_RETRY;
	out->retry_after_ms = -1;
	switch (code) {
	case 5:  /* user authorization failed: a bad or revoked token */
	case 28: /* application authorization failed */
		out->kind = PUBLISH_NEEDS_AUTH;
		set_reason(out,
		           "VK error %ld: the access token was refused (renew "
		           "token_file of channel '%s'): %s",
		           code, ch->name, msg);
		return;
	case 27: /* group authorization failed: a community's token */
		out->kind = PUBLISH_NEEDS_AUTH;
		set_reason(out,
		           "VK error 27: a community token cannot post; put a "
		           "community admin's user token (wall, photos, "
		           "offline) in token_file of channel '%s': %s",
		           ch->name, msg);
		return;
	case 6: /* too many requests per second */
		out->retry_after_ms = 1000;
		break;
	case 9: /* flood control: the same action too often */
		out->retry_after_ms = 60 * 1000;
		break;
	case 29: /* the method's daily rate limit */
		out->retry_after_ms = 3600 * 1000;
		break;
	case 14: /* captcha: smmd cannot solve one; it passes with time */
		out->retry_after_ms = 15 * 60 * 1000;
		set_reason(
		        out,
		        "VK error 14: VK asks for a captcha, which smmd cannot "
		        "answer: retrying later: %s",
		        msg);
		return;
	case 1:  /* unknown error */
	case 10: /* internal server error */
		break;
	default:
		out->kind = PUBLISH_FAILED;
	}
	set_reason(out, "VK error %ld: %s", code, msg);
}

/*
 * Judge a method's answer: its "response" (a new reference) when it is
 * one, else NULL with out set.
 */
static json_t *api_answer(const struct channel *ch,
                          const struct http_result *res, int64_t now_ms,
                          const char *what, struct verdict *out)
{
	char msg[160];
	long code = 0;
	json_t *o, *r;

	if (res->status < 200 || res->status > 299) {
		publisher_classify_http(res, now_ms, out);
		publisher_prefix_reason(out, what);
		return NULL;
	}
	if (vk_error(ch, res, &code, msg, sizeof(msg))) {
		judge_code(ch, code, msg, out);
		publisher_prefix_reason(out, what);
		return NULL;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	r = json_incref(json_object_get(o, "response"));
	json_decref(o);
	if (r == NULL) {
		/* A success that does not say what was made: it may be up. */
		out->kind = PUBLISH_RETRY;
		out->ambiguous = 1;
		out->retry_after_ms = -1;
		set_reason(out, "HTTP %ld without a response", res->status);
		publisher_prefix_reason(out, what);
	}
	return r;
}

static void next_step(struct pub_step *st, const struct http_result *res,
                      const char *note, struct verdict *out)
{
	st->n++;
	out->kind = PUBLISH_NEXT;
	set_reason(out, "HTTP %ld%s%s", res->status, note[0] ? ", " : "", note);
}

/* Set out to a retry for a reply that lacks what it should hold. */
static void malformed(struct verdict *out, const struct http_result *res,
                      const char *lacks, const char *what)
{
	out->kind = PUBLISH_RETRY;
	out->retry_after_ms = -1;
	set_reason(out, "HTTP %ld without %s", res->status, lacks);
	publisher_prefix_reason(out, what);
}

static void classify_server(const struct channel *ch, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	json_t *r =
	        api_answer(ch, res, now_ms, "photos.getWallUploadServer", out);
	char url[1024];

	if (r == NULL)
		return;
	publisher_json_text(r, "upload_url", url, sizeof(url));
	json_decref(r);
	if (strncmp(url, "http", 4) != 0) {
		malformed(out, res, "an upload_url",
		          "photos.getWallUploadServer");
		return;
	}
	json_object_set_new(st->state, "upload_url", json_string(url));
	next_step(st, res, "", out);
}

static void classify_upload(const struct channel *ch, struct pub_step *st,
                            const struct http_result *res, int64_t now_ms,
                            struct verdict *out)
{
	size_t i = json_array_size(photos(st));
	char what[64], server[32], hash[128];
	const char *photo;
	json_t *o, *ph;

	snprintf(what, sizeof(what), "uploading photo %zu", i + 1);
	if (res->status < 200 || res->status > 299) {
		publisher_classify_http(res, now_ms, out);
		if (res->status == 0 && res->error &&
		    strstr(res->error, "refused to connect") != NULL)
			out->kind = PUBLISH_FAILED; /* a private address */
		publisher_prefix_reason(out, what);
		return;
	}
	o = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	publisher_json_text(o, "server", server, sizeof(server));
	publisher_json_text(o, "hash", hash, sizeof(hash));
	/* Kept whole: a list of sizes and URLs, of no bounded length. */
	ph = json_incref(json_object_get(o, "photo"));
	photo = json_string_value(ph);
	json_decref(o);
	/* "photo":"[]" is the upload server's way to say it took nothing. */
	if (server[0] == '\0' || hash[0] == '\0' || photo == NULL ||
	    photo[0] == '\0' || strcmp(photo, "[]") == 0) {
		json_decref(ph);
		out->kind = PUBLISH_FAILED;
		out->retry_after_ms = -1;
		set_reason(out,
		           "VK's upload server took no photo (JPG, PNG or GIF, "
		           "at most 50 MB)");
		publisher_prefix_reason(out, what);
		return;
	}
	json_object_del(st->state, "upload_url");
	json_object_set_new(st->state, "uploaded",
	                    json_pack("{s:s, s:o, s:s}", "server", server,
	                              "photo", ph, "hash", hash));
	next_step(st, res, "", out);
}

static void classify_save(const struct channel *ch, struct pub_step *st,
                          const struct http_result *res, int64_t now_ms,
                          struct verdict *out)
{
	json_t *r = api_answer(ch, res, now_ms, "photos.saveWallPhoto", out);
	char id[32], owner[32], att[80];

	if (r == NULL)
		return;
	publisher_json_text(json_array_get(r, 0), "id", id, sizeof(id));
	publisher_json_text(json_array_get(r, 0), "owner_id", owner,
	                    sizeof(owner));
	json_decref(r);
	if (id[0] == '\0' || owner[0] == '\0') {
		malformed(out, res, "the photo's id", "photos.saveWallPhoto");
		return;
	}
	snprintf(att, sizeof(att), "photo%s_%s", owner, id);
	json_object_del(st->state, "uploaded");
	json_array_append_new(photos(st), json_string(att));
	next_step(st, res, att, out);
}

static void classify_post(const struct channel *ch,
                          const struct http_result *res, int64_t now_ms,
                          struct verdict *out)
{
	const struct vk_conf *vc = ch->pub_conf;
	json_t *r = api_answer(ch, res, now_ms, "wall.post", out);
	char post[32];

	if (r == NULL)
		return;
	publisher_json_text(r, "post_id", post, sizeof(post));
	json_decref(r);
	out->kind = PUBLISH_OK;
	out->retry_after_ms = -1;
	if (post[0] == '\0' || strspn(post, "0123456789") != strlen(post)) {
		set_reason(out, "HTTP %ld without a post_id", res->status);
		return;
	}
	snprintf(out->remote_id, sizeof(out->remote_id), "-%s_%s", vc->group,
	         post);
	snprintf(out->remote_url, sizeof(out->remote_url),
	         "https://vk.com/wall-%s_%s", vc->group, post);
	set_reason(out, "HTTP %ld, post %s", res->status, out->remote_id);
}

static void vk_classify(const struct channel *ch, const struct delivery_view *v,
                        struct pub_step *st, const struct http_result *res,
                        int64_t now_ms, struct verdict *out)
{
	const struct vk_conf *vc = ch->pub_conf;
	size_t i = json_array_size(photos(st));

	switch ((enum step_kind)pub_step_get(st)) {
	case STEP_FETCH:
		pub_media_fetched(
		        ch, i + 1,
		        json_string_value(json_array_get(v->media, i)), st, res,
		        now_ms, out);
		break;
	case STEP_SERVER:
		classify_server(ch, st, res, now_ms, out);
		break;
	case STEP_UPLOAD:
		classify_upload(ch, st, res, now_ms, out);
		break;
	case STEP_SAVE:
		classify_save(ch, st, res, now_ms, out);
		break;
	case STEP_POST:
		classify_post(ch, res, now_ms, out);
		break;
	}
	/* Only wall.post is public; a saved photo is not on the wall. */
	out->repeatable = pub_step_get(st) != STEP_POST;
	if (vc->token_len > 0)
		publisher_redact(out->reason, (const char *)vc->token);
}

/* VK documents no length limit for a wall post's text. */
static const struct text_rule vk_text = {
        .unit = "characters",
        .limit = 0,
        .measure = NULL,
};

const struct publisher_ops pub_vk = {
        .name = "vk",
        .keys = "token_file, group_id, owner_id, api_url, api_version",
        .configure = vk_configure,
        .check = vk_check,
        .free_conf = vk_free,
        .idempotent = vk_idempotent,
        .build_request = vk_build,
        .classify = vk_classify,
        .engage = &vk_engage,
        .text_rule = &vk_text,
};
