/*
 * What the facebook and instagram drivers share: Meta's Graph API. Its
 * config keys (graph_url, graph_version, token_file), its URLs, its
 * Authorization header, and how its answers are judged: the error object
 *   {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}
 * as https://developers.facebook.com/docs/graph-api/guides/error-handling
 * lists the codes, and the usage headers of
 * https://developers.facebook.com/docs/graph-api/overview/rate-limiting
 * (X-Business-Use-Case-Usage's estimated_time_to_regain_access, minutes).
 */
#ifndef SMMD_PUB_GRAPH_H
#define SMMD_PUB_GRAPH_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "publisher.h"

/* The version smmd follows (released 18 February 2026). */
#define GRAPH_VERSION_DEFAULT "v25.0"
#define GRAPH_URL_DEFAULT     "https://graph.facebook.com"

struct graph_conf {
	char *url;     /* without a trailing '/'; NULL: GRAPH_URL_DEFAULT */
	char *version; /* "v25.0"; NULL: GRAPH_VERSION_DEFAULT */
	unsigned char *token; /* token_file's content */
	size_t token_len;
	int token_given;
};

/* The error object of a Graph API answer. */
struct graph_error {
	long code, subcode; /* -1: absent */
	char message[200];
	char type[48];
	char fbtrace_id[48];
};

/*
 * Parse graph_url, graph_version or token_file into gc: 1 if key was one
 * of them (errors through conf_error), 0 if not.
 */
int graph_configure(struct conf_ctx *, struct graph_conf *gc, const char *key,
                    struct conf_node *v);
void graph_conf_free(struct graph_conf *gc);
/*
 * The token to send: auth.c's when it keeps one for ch, else token_file's;
 * NULL: none (build_request answers -EACCES).
 */
const char *graph_token(const struct channel *ch, const struct graph_conf *gc);
/* "Authorization: Bearer TOKEN" onto h. 0 or -1. */
int graph_add_auth(const char *token, struct curl_slist **h);
/*
 * "GRAPH_URL/VERSION/" followed by the printf-formatted path, malloc'd;
 * NULL when out of memory.
 */
char *graph_endpoint(const struct graph_conf *gc, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/*
 * Append "key=value" (value percent-encoded) to the form body *body of
 * *len bytes. 0 or -1 (out of memory).
 */
int graph_form_add(char **body, size_t *len, const char *key,
                   const char *value);
/* A Graph API id: digits, maybe with '_' (page_post). 1 if s is one. */
int graph_id_ok(const char *s);

/* The error object in body, if there is one: 1, else 0 (out cleared). */
int graph_error_parse(const char *body, size_t len, struct graph_error *out);
/*
 * The longest estimated_time_to_regain_access (minutes) in a usage
 * header's JSON, in milliseconds; -1 if none says.
 */
int64_t graph_usage_wait_ms(const char *header);
/*
 * Judge an answer that is not a success (or a 2xx whose body holds an
 * error object): NEEDS_AUTH for a refused token (code 190, 102, their
 * subcodes, missing permissions), RETRY for throttling (codes 4, 9, 17,
 * 32, 341, 613, 80001-80009: after the usage header's time to regain
 * access, or Retry-After), for 1, 2 and any 5xx, FAILED with Meta's
 * message otherwise. what names the step ("posting the photo").
 */
void graph_judge(const struct http_result *res, int64_t now_ms,
                 const char *what, struct verdict *out);
/* 1 if res is a 2xx without an error object in its body. */
int graph_ok(const struct http_result *res);
/* The answer's JSON (NULL if it is none); the caller decrefs. */
json_t *graph_body(const struct http_result *res);
/* Scrub every token ch may send out of the verdict's reason. */
void graph_scrub(const struct channel *ch, const struct graph_conf *gc,
                 struct verdict *out);

#endif
