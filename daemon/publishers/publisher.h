/*
 * A publisher turns one delivery into the HTTP request(s) its kind of
 * endpoint wants and judges each response. Adding a driver is one new file
 * in publishers/ (pub_NAME.c defining `const struct publisher_ops
 * pub_NAME`) and one line in the registry in publisher.c.
 *
 * A delivery may take several requests (Mastodon: fetch each media file,
 * upload it, then post the status). The driver keeps its progress in
 * struct pub_step and answers PUBLISH_NEXT until the last step; the
 * dispatcher then builds and sends the next request. Every step of one
 * attempt happens within that attempt: a retry starts again at step 0.
 */
#ifndef SMMD_PUBLISHER_H
#define SMMD_PUBLISHER_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

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
	const char *webhook_id; /* stable across retries: the idempotency key */
	int64_t scheduled_ms;
	unsigned attempt; /* 1-based */
	/*
	 * The store's fencing token (store_fence): the epoch of the lease
	 * this node works under, higher for every node that takes over; 0
	 * when the store has none (SQLite).
	 */
	int64_t fence;
};

/* A driver's progress through one attempt; reset for every attempt. */
struct pub_step {
	unsigned n;    /* which request this is, from 0 */
	json_t *state; /* the driver's notes (ids so far); owned */
	char *blob;    /* a fetched file between two steps; owned */
	size_t blob_len;
	char *blob_type; /* its Content-Type; owned */
};

enum verdict_kind {
	PUBLISH_OK, /* published: the delivery is done */
	/*
	 * This step worked: build the next request, and send it after
	 * retry_after_ms if that is > 0 (polling a job the network is still
	 * processing). A remote_id set means the post exists already: if the
	 * rest cannot happen (smmd stops), the delivery is published.
	 */
	PUBLISH_NEXT,
	PUBLISH_RETRY,  /* try the whole attempt again later */
	PUBLISH_FAILED, /* permanent: never retry */
	/*
	 * The network refused the channel's credentials (revoked, expired,
	 * missing): the delivery is held, never failed, and the channel
	 * needs `smmctl auth` (auth.c) before anything on it goes again.
	 */
	PUBLISH_NEEDS_AUTH,
};

struct verdict {
	enum verdict_kind kind;
	int64_t retry_after_ms; /* -1 when the endpoint didn't say */
	char reason[256];       /* for the log and the store */
	char remote_id[128];    /* the network's post id, when published */
	char remote_url[512];   /* its public URL, when the network says */
	/*
	 * This step made nothing public (a media fetch, an upload, a
	 * container, a status check): an answer lost on the way is tried
	 * again even where the endpoint drops no repeat, never "unknown".
	 */
	int repeatable;
	/*
	 * The network answered the publishing step without saying whether
	 * the post is public (a success status without the body it should
	 * hold): where a repeat is unsafe, "unknown", never sent again.
	 */
	int ambiguous;
};

/*
 * Engagement read back from the network (engage.c asks, the driver knows
 * how). A figure the network does not give is -1, never 0: "Telegram gives
 * bots no views" is not "nobody looked".
 */
struct engagement {
	int64_t likes;    /* favourites, reactions, likes */
	int64_t shares;   /* reblogs, reposts, shares */
	int64_t comments; /* replies, comments */
	int64_t quotes;
	int64_t views;
};

/* One published delivery whose engagement is read. Borrowed strings. */
struct engage_item {
	const char *delivery_id;
	const char *post_id;
	const char *webhook_id;
	const char *remote_id; /* the network's id for it; NULL: none known */
	struct engagement got; /* parse fills it ... */
	int found;             /* ... and says the network answered for it */
};

/*
 * A driver's engagement side: how to ask, and how to read the answer. The
 * engine judges the HTTP status (429, 401/403, 5xx) the same for every
 * driver; parse sees 2xx answers only.
 */
struct engage_ops {
	unsigned batch; /* items one request may read; 1: one at a time */
	/* Whether reads name the network's id for the post; NULL: never. */
	int (*needs_remote_id)(const struct channel *);
	/* Whether ch's engagement can be read (its config says how). */
	int (*enabled)(const struct channel *);
	/* Fill req for items[0..n), n <= batch. 0 or -1 with err set. */
	int (*request)(const struct channel *, const struct engage_item *items,
	               size_t n, struct http_request *req, char *err,
	               size_t errlen);
	/* Fill items' got and found from res. 0, or -1 with err set. */
	int (*parse)(const struct channel *, const struct http_result *res,
	             struct engage_item *items, size_t n, char *err,
	             size_t errlen);
	/* The channel's audience (followers, members); NULL: not offered. */
	int (*audience_request)(const struct channel *,
	                        struct http_request *req, char *err,
	                        size_t errlen);
	int (*audience_parse)(const struct channel *,
	                      const struct http_result *res, int64_t *followers,
	                      char *err, size_t errlen);
};

/*
 * What a network counts in a post's text and how much it takes. The plan
 * (calendar, add, CSV import) measures every text with it before it is
 * accepted; a channel's max_length, if set, replaces limit (an X Premium
 * account takes 25,000) and is counted in the same unit.
 */
struct text_rule {
	const char *unit; /* "characters", "graphemes", "weighted characters" */
	unsigned limit;   /* the network's own; 0: none */
	/* The text's length in unit; NULL: Unicode code points. */
	size_t (*measure)(const char *text, size_t len);
	/* How the post's link joins the text it goes out in ("\n\n": it
	 * counts too); NULL: the link goes apart (a card, a field). */
	const char *link_joint;
	/* A cap in UTF-8 bytes as well (Bluesky: 3000); 0: none. */
	size_t max_bytes;
};

/*
 * A channel's OAuth tokens, kept by auth.c: in the state directory (one
 * 0600 file per channel, replaced atomically), never in the store, a log
 * or a reply. Drivers read them through ch->tokens while building a
 * request; auth.c alone changes them.
 */
struct auth_tokens {
	char *access;               /* NULL: none yet */
	char *refresh;              /* NULL: the network gives none */
	int64_t access_expires_ms;  /* -1: the network did not say */
	int64_t refresh_expires_ms; /* -1: did not say, or never */
	json_t *extra; /* the driver's notes (Bluesky's DID and PDS); owned */
};

/*
 * How a driver gets and keeps its tokens. Either a person authorizes once
 * in a browser (authorize_url, then exchange_request with the code and the
 * PKCE verifier: `smmctl auth CHANNEL`), or smmd logs in by itself from a
 * secret in the config (login_request: Bluesky's app password). Requests
 * fill req and return 0, or -1 with err set.
 */
struct auth_ops {
	/*
	 * Whether ch gets its tokens this way (Mastodon: when it names an
	 * application, not a token_file); NULL: always.
	 */
	int (*used)(const struct channel *);
	/* NULL: a person authorizes in a browser. */
	int (*login_request)(const struct channel *, struct http_request *req,
	                     char *err, size_t errlen);
	/* The page to open: PKCE S256 challenge and state; 0, or -1. */
	int (*authorize_url)(const struct channel *, const char *redirect_uri,
	                     const char *challenge, const char *state,
	                     char *out, size_t cap);
	int (*exchange_request)(const struct channel *, const char *code,
	                        const char *verifier, const char *redirect_uri,
	                        struct http_request *req, char *err,
	                        size_t errlen);
	/* New tokens from the current ones; NULL: they cannot be renewed. */
	int (*refresh_request)(const struct channel *,
	                       const struct auth_tokens *cur,
	                       struct http_request *req, char *err,
	                       size_t errlen);
	/*
	 * Read a 2xx answer to any of the above into out, which starts as a
	 * copy of the current tokens (keep what the answer leaves out; turn
	 * expires_in into a time with now_ms). 0, or -1 with err set.
	 */
	int (*token_parse)(const struct channel *, const struct http_result *,
	                   int64_t now_ms, struct auth_tokens *out, char *err,
	                   size_t errlen);
	/* Renew this long before access_expires_ms. */
	int64_t refresh_ahead_ms;
};

struct publisher_ops {
	const char *name;
	/* The driver's own keys, listed in "unknown key" messages. */
	const char *keys;
	/*
	 * Parse one of the driver's keys in a channel. Returns 1 if key is
	 * the driver's (errors go through conf_error), 0 if unknown.
	 */
	int (*configure)(struct conf_ctx *, struct channel *, const char *key,
	                 struct conf_node *value);
	/* After every key: report what is missing or inconsistent at node. */
	void (*check)(struct conf_ctx *, struct channel *,
	              struct conf_node *node);
	/* Free ch->pub_conf. */
	void (*free_conf)(struct channel *);
	/*
	 * Whether the endpoint drops a request it has seen (same
	 * Idempotency-Key / webhook-id). If not, a request whose fate is
	 * unknown is never re-sent blindly: the delivery becomes "unknown".
	 */
	int (*idempotent)(const struct channel *);
	/*
	 * Fill req for step st->n of v. Returns 0; -1 with err set when the
	 * post or the config is at fault (the delivery fails: a retry won't
	 * fix it); -EAGAIN with err set for a passing problem (memory,
	 * files, randomness): the delivery is tried again later; or -EACCES
	 * with err set when the channel has no usable token: it is held and
	 * the channel needs auth.
	 */
	int (*build_request)(const struct channel *,
	                     const struct delivery_view *v, struct pub_step *st,
	                     int64_t now_ms, struct http_request *req,
	                     char *err, size_t errlen);
	/* Judge the response to step st->n; may advance st for PUBLISH_NEXT. */
	void (*classify)(const struct channel *, const struct delivery_view *v,
	                 struct pub_step *st, const struct http_result *res,
	                 int64_t now_ms, struct verdict *out);
	/* Reading engagement back; NULL: the network offers none. */
	const struct engage_ops *engage;
	/* Its length rule; NULL: max_length alone, in code points. */
	const struct text_rule *text_rule;
	/* Its tokens' life; NULL: a static secret from the config. */
	const struct auth_ops *auth;
};

const struct publisher_ops *publisher_lookup(const char *name);
/* For engage_ops.needs_remote_id: every read names the post's id. */
int publisher_always(const struct channel *);
/* "data.id", "items.0.url": dot-separated names or array indices. */
int publisher_json_path_ok(const char *path);
/* Follow such a path through objects and arrays; NULL if absent. */
json_t *publisher_json_at(json_t *o, const char *path);
/* "webhook, slack, ..." for error messages; malloc'd. */
char *publisher_names(void);
/* Free what a pub_step holds and zero it. */
void pub_step_clear(struct pub_step *);
/*
 * Which request of its attempt st is at (the driver's own enum), noted in
 * st->state, which must exist; 0 when none was noted.
 */
void pub_step_set(struct pub_step *st, int kind);
int pub_step_get(const struct pub_step *st);

/*
 * Shared by drivers: the generic judgement of an HTTP result (2xx ok;
 * 408/425/429/5xx and no response: retry, honouring Retry-After; other
 * 4xx: failed with the status and the start of the body).
 */
void publisher_classify_http(const struct http_result *, int64_t now_ms,
                             struct verdict *out);
/* out's reason becomes "what: reason", cut to fit. */
void publisher_prefix_reason(struct verdict *out, const char *what);
/* A JSON string or integer field as text; "" if absent. */
void publisher_json_text(json_t *o, const char *key, char *out, size_t cap);
/* The start of a response body, printable, for a reason string. */
void publisher_body_excerpt(const char *body, size_t len, char *out,
                            size_t cap);
/* Append "Name: value" to a curl header list; value NULL drops a header. */
int publisher_add_header(struct curl_slist **list, const char *name,
                         const char *value);

/*
 * Defence in depth: replace every copy of secret in s with "***" (an error
 * page from a proxy may quote the request, and with it a token).
 */
void publisher_redact(char *s, const char *secret);
/*
 * The same for a URL that is a secret (Slack, Discord webhooks): the URL,
 * its path and the path's last segment, whichever form a message quotes.
 */
void publisher_redact_url(char *s, const char *url);

#endif
