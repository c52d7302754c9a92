/*
 * The template publisher (daemon/publishers/pub_template.c): the admin's
 * body template, parsed at config time, then filled in with a post's
 * values and the reply read with the admin's success_id path.
 *
 * Input: one flags byte, then fields split by NUL bytes: the body
 * template, the text, the link, a media URL, the success_id path and the
 * reply's body. Flags: 1 a form body (else JSON), 2 no link, 4 no media,
 * 8 a campaign.
 *
 * A JSON template accepted at config time must make JSON whatever the
 * post says: the values are escaped, never pasted.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "http.h"
#include "publishers/publisher.h"

#define NFIELDS 6

enum { F_BODY, F_TEXT, F_LINK, F_MEDIA, F_PATH, F_REPLY };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_dir();
	return 0;
}

/* A config of one template channel; 0 with *out, or -1 if refused. */
static int load(unsigned flags, const char *body, const char *path,
                struct config **out)
{
	static char yaml[65536];
	struct config_errors errs = {0};
	size_t len;
	int r;

	len = (size_t)snprintf(yaml, sizeof(yaml),
	                       "state_dir: /nonexistent\n"
	                       "channels:\n"
	                       "  t:\n"
	                       "    publisher: template\n"
	                       "    url: https://api.example/v1/posts\n"
	                       "    content_type: %s\n"
	                       "    body: ",
	                       flags & 1 ? "form" : "json");
	len = fuzz_yaml_quote(yaml, len, sizeof(yaml), body, strlen(body));
	if (len == (size_t)-1 || sizeof(yaml) - len < 32)
		return -1;
	if (*path != '\0') {
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
		                        "\n    success_id: ");
		len = fuzz_yaml_quote(yaml, len, sizeof(yaml), path,
		                      strlen(path));
		if (len == (size_t)-1)
			return -1;
	}
	yaml[len++] = '\n';
	r = config_load(fuzz_write("template.yaml", yaml, len), out, &errs);
	config_errors_clear(&errs);
	return r;
}

static void check_json(const struct http_request *req)
{
	json_error_t jerr;
	json_t *doc =
	        json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &jerr);

	if (doc == NULL) {
		fprintf(stderr, "the body is not JSON (%s): %.*s\n", jerr.text,
		        (int)req->body_len, req->body);
		abort();
	}
	json_decref(doc);
}

static void publish(const struct channel *ch, unsigned flags,
                    char *const f[NFIELDS], size_t reply_len)
{
	json_t *media = flags & 4 ? json_array() : json_pack("[s]", f[F_MEDIA]);
	struct delivery_view v = {
	        .delivery_id = "p1/t",
	        .post_id = "p1",
	        .channel = "t",
	        .text = f[F_TEXT],
	        .link = flags & 2 ? NULL : f[F_LINK],
	        .campaign = flags & 8 ? "launch" : NULL,
	        .media = media,
	        .webhook_id = "msg_1",
	        .scheduled_ms = INT64_C(1795341600000),
	        .attempt = 1,
	};
	struct http_result res = {
	        .status = 201, .body = f[F_REPLY], .body_len = reply_len};
	struct pub_step st = {0};
	struct http_request req = {0};
	struct verdict out = {0};
	char err[256];

	/* json_pack refuses a media URL that is not UTF-8. */
	if (media == NULL)
		return;
	if (ch->pub->build_request(ch, &v, &st, 0, &req, err, sizeof(err)) ==
	    0) {
		if (!(flags & 1))
			check_json(&req);
		ch->pub->classify(ch, &v, &st, &res, 0, &out);
	}
	http_request_clear(&req);
	pub_step_clear(&st);
	json_decref(media);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[NFIELDS], *s, *end;
	struct config *cfg = NULL;
	size_t reply_len;
	unsigned flags;

	if (size < 1)
		return 0;
	flags = data[0];
	s = fuzz_cstr(data + 1, size - 1);
	end = s + size - 1;
	/* Split at NULs; the reply is the rest, NULs and all. */
	for (int i = 0; i < NFIELDS; i++) {
		f[i] = s;
		if (i < NFIELDS - 1 && s < end) {
			s += strlen(s);
			if (s < end)
				s++;
		}
	}
	reply_len = (size_t)(end - f[F_REPLY]);
	if (load(flags, f[F_BODY], f[F_PATH], &cfg) == 0) {
		publish(config_channel(cfg, "t"), flags, f, reply_len);
		config_unref(cfg);
	}
	free(f[F_BODY]);
	return 0;
}
