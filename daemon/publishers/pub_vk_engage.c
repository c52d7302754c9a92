/*
 * VK's engagement (API 5.199):
 *   wall.getById posts=-G_P,... → each post's likes.count, reposts.count,
 *   comments.count, views.count (https://dev.vk.com/en/method/wall.getById,
 *   https://dev.vk.com/en/reference/objects/post); VK has no quotes.
 *   groups.getById group_id=G fields=members_count → the community's
 *   members (https://dev.vk.com/en/method/groups.getById).
 * Both answer {"response": ...}: as an array in older versions, as
 * {"items": [...]} / {"groups": [...]} in newer ones; both are read.
 * Like every VK call, the token goes in the POST body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "pub_form.h"
#include "pub_vk.h"

/* Posts per wall.getById: VK takes 100. */
#define VK_READ_BATCH 100

static int vk_readable(const struct channel *ch)
{
	return ch->pub_conf != NULL;
}

/* "-123_45": VK's id of a community's post. */
static int post_id_ok(const char *id)
{
	const char *us;

	return id != NULL && id[0] == '-' && (us = strchr(id, '_')) != NULL &&
	       us > id + 1 && us[1] != '\0' &&
	       strspn(id + 1, "0123456789_") == strlen(id + 1) &&
	       strlen(id) < 40;
}

static int read_request(const struct channel *ch, const struct engage_item *it,
                        size_t n, struct http_request *req, char *err,
                        size_t errlen)
{
	char *list = NULL;
	size_t len = 0, k = 0;
	FILE *f = NULL, *l = open_memstream(&list, &len);
	int first, r = -1;

	if (l == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (post_id_ok(it[i].remote_id))
			fprintf(l, "%s%s", k++ ? "," : "", it[i].remote_id);
	if (fclose(l) != 0)
		goto out;
	if (k == 0) {
		snprintf(err, errlen, "no VK post id to read");
		free(list);
		return -1;
	}
	if (vk_call_begin(ch, "wall.getById", req, &f, &first) == 0) {
		pub_form_add(f, &first, "posts", list);
		r = vk_call_end(req, f);
	}
out:
	free(list);
	if (r < 0)
		snprintf(err, errlen, "out of memory");
	return r;
}

static int64_t count(json_t *post, const char *key)
{
	json_t *v = json_object_get(json_object_get(post, key), "count");

	return json_is_integer(v) && json_integer_value(v) >= 0
	               ? json_integer_value(v)
	               : -1;
}

static void take_post(json_t *post, struct engage_item *it, size_t n)
{
	char id[48];

	snprintf(id, sizeof(id),
	         "%" JSON_INTEGER_FORMAT "_%" JSON_INTEGER_FORMAT,
	         json_integer_value(json_object_get(post, "owner_id")),
	         json_integer_value(json_object_get(post, "id")));
	for (size_t i = 0; i < n; i++) {
		if (it[i].remote_id == NULL || strcmp(it[i].remote_id, id) != 0)
			continue;
		it[i].got = (struct engagement){
		        .likes = count(post, "likes"),
		        .shares = count(post, "reposts"),
		        .comments = count(post, "comments"),
		        .quotes = -1,
		        .views = count(post, "views"),
		};
		it[i].found = 1;
	}
}

/* The list in {"response": [...]} or {"response": {key: [...]}}. */
static json_t *response_list(json_t *doc, const char *key)
{
	json_t *r = json_object_get(doc, "response");

	return json_is_array(r) ? r : json_object_get(r, key);
}

/* VK's {"error": ...} as err. 1 if the answer is one. */
static int answer_error(const struct channel *ch, const struct http_result *res,
                        char *err, size_t errlen)
{
	char msg[160];
	long code;

	if (!vk_error(ch, res, &code, msg, sizeof(msg)))
		return 0;
	snprintf(err, errlen, "VK error %ld: %s", code, msg);
	return 1;
}

static int read_parse(const struct channel *ch, const struct http_result *res,
                      struct engage_item *it, size_t n, char *err,
                      size_t errlen)
{
	json_t *doc, *list, *post;
	size_t i;

	if (answer_error(ch, res, err, errlen))
		return -1;
	doc = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	if (!json_is_array(list = response_list(doc, "items"))) {
		json_decref(doc);
		snprintf(err, errlen, "the answer has no list of posts");
		return -1;
	}
	json_array_foreach (list, i, post)
		take_post(post, it, n);
	json_decref(doc);
	return 0;
}

static int audience_request(const struct channel *ch, struct http_request *req,
                            char *err, size_t errlen)
{
	const struct vk_conf *vc = ch->pub_conf;
	FILE *f;
	int first;

	if (vk_call_begin(ch, "groups.getById", req, &f, &first) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pub_form_add(f, &first, "group_id", vc->group);
	pub_form_add(f, &first, "fields", "members_count");
	if (vk_call_end(req, f) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int audience_parse(const struct channel *ch,
                          const struct http_result *res, int64_t *followers,
                          char *err, size_t errlen)
{
	json_t *doc, *v;

	*followers = -1;
	if (answer_error(ch, res, err, errlen))
		return -1;
	doc = json_loadb(res->body ? res->body : "", res->body_len, 0, NULL);
	v = json_object_get(json_array_get(response_list(doc, "groups"), 0),
	                    "members_count");
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*followers = json_integer_value(v);
	json_decref(doc);
	if (*followers < 0) {
		snprintf(err, errlen, "the answer has no members_count");
		return -1;
	}
	return 0;
}

const struct engage_ops vk_engage = {
        .batch = VK_READ_BATCH,
        .needs_remote_id = publisher_always,
        .enabled = vk_readable,
        .request = read_request,
        .parse = read_parse,
        .audience_request = audience_request,
        .audience_parse = audience_parse,
};
