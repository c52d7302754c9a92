/*
 * A publisher turns one delivery into an HTTP request for its kind of
 * endpoint and judges the response. Adding a driver is one new file in
 * publishers/ and one line in the registry (publisher.c).
 */
#ifndef SMMD_PUBLISHER_H
#define SMMD_PUBLISHER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct channel;
struct http_request;
struct http_result;

/* What a publisher sees of one delivery. Every pointer is borrowed. */
struct delivery_view {
	const char *delivery_id;
	const char *post_id;
	const char *channel;
	const char *text;
	const char *link;       /* may be NULL */
	const char *campaign;   /* may be NULL */
	const json_t *media;    /* array of URL strings */
	const char *webhook_id; /* stable across retries */
	int64_t scheduled_ms;
	unsigned attempt; /* 1-based */
};

enum verdict_kind {
	PUBLISH_OK,
	PUBLISH_RETRY,
	PUBLISH_FAILED,
};

struct verdict {
	enum verdict_kind kind;
	int64_t retry_after_ms; /* -1 when the endpoint didn't say */
	char reason[256];       /* for the log and the store */
};

struct publisher_ops {
	const char *name;
	/* Whether the endpoint drops a repeated Idempotency-Key/webhook-id. */
	int idempotent;
	/* Fill req for v; 0, or -1 with err set (then the delivery fails). */
	int (*build_request)(const struct channel *,
	                     const struct delivery_view *v, int64_t now_ms,
	                     struct http_request *req, char *err,
	                     size_t errlen);
	void (*classify)(const struct channel *, const struct http_result *,
	                 int64_t now_ms, struct verdict *out);
};

const struct publisher_ops *publisher_lookup(const char *name);
/* "webhook, ..." for error messages; malloc'd. */
char *publisher_names(void);

/* Shared by drivers: the generic status/Retry-After judgement. */
void publisher_classify_http(const struct http_result *, int64_t now_ms,
                             struct verdict *out);

extern const struct publisher_ops pub_webhook;

#endif
