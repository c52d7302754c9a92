/*
 * What auth.c (credentials over their life) and authflow.c (a person's
 * `smmctl auth`) share. Loop thread only.
 */
#ifndef SMMD_AUTH_IMPL_H
#define SMMD_AUTH_IMPL_H

#include <limits.h>
#include <stdint.h>

#include <uv.h>

#include "http.h"
#include "pkce.h"
#include "tokenseal.h"
#include "publishers/publisher.h"

struct smmd;
struct cmd_later;

/* A refused token is renewed at most this often before giving up on it. */
#define AUTH_RENEW_GAP_MS (60 * 1000)
/* A renewal that failed for a passing reason: first wait, and the cap. */
#define AUTH_RETRY_MIN_MS (15 * 1000)
#define AUTH_RETRY_MAX_MS (60 * 60 * 1000)
/* Renew this long before expiry when the driver does not say. */
#define AUTH_AHEAD_DEFAULT_MS (5 * 60 * 1000)

enum slot_busy { SLOT_IDLE, SLOT_ASKING, SLOT_SAVING, SLOT_READING };

/* One channel's credentials; slots live until shutdown (reloads keep them). */
struct auth_slot {
	char *channel;
	struct auth_tokens tok;   /* in use: what ch->tokens points at */
	struct auth_tokens fresh; /* received, not yet on disk */
	enum slot_busy busy;
	int refused;           /* the network refused tok: wait for new ones */
	int refresh_refused;   /* ... and its refresh: log in instead */
	int64_t retry_ms;      /* no renewal before then (passing failures) */
	int64_t last_renew_ms; /* the last renewal asked for */
	int64_t fresh_ms;      /* when fresh came: its save's time */
	int fresh_by_person;   /* ... from smmctl auth: replaces what
	                        * PostgreSQL holds under another key */
	unsigned failures;     /* passing failures in a row */
	unsigned short_lived;  /* renewals in a row that gave a token due
	                        * for renewal at once */
	char **waiting;        /* deliveries waiting for fresh tokens */
	size_t nwaiting, capwaiting;
	/* smmctl auth under way: the page's verifier and state, until when */
	char verifier[PKCE_VERIFIER_LEN], state[OAUTH_STATE_LEN];
	int64_t pending_until_ms;
	struct cmd_later *later; /* the smmctl auth waiting for the answer */
	long who_uid;            /* ... and who asked: -1: smmd itself */
	char who_user[64];
};

struct auth {
	struct smmd *d;
	char *state_dir; /* the one smmd started with */
	struct auth_slot **v;
	size_t n;
	uv_timer_t timer;
	int timer_open;
	uv_work_t work; /* one save at a time, for slot saving */
	struct auth_slot *saving;
	char save_path[PATH_MAX];
	char *save_text;
	int64_t save_ms; /* when the tokens came: in the file, in the seal */
	int save_err;
	/* token_key_file as the start read it (a reload changes nothing):
	 * tokens kept in PostgreSQL too, sealed (authshare.c). */
	int shared;
	unsigned char key[TOKENSEAL_KEY_LEN];
	char key_id[TOKENSEAL_KEY_ID_LEN];
	/* What PostgreSQL held at the start (authshare.c), until the files
	 * newer here went there; held_known: read whole. */
	struct auth_held *held;
	size_t nheld, capheld;
	int held_known;
};

/* What a token request carries back to the loop. */
struct ask {
	struct smmd *d;
	struct auth_slot *s;
	struct http_request req;
	const char *what; /* "renewing the token", "exchanging the code" */
	int exchange;     /* a person's code: a refusal holds nothing */
	int refresh;      /* the refresh grant: refused, a login may do */
};

/* ch's slot, made (its tokens read from disk) the first time; NULL:
 * out of memory, or auth not started (no tokens to show). */
struct auth_slot *auth_slot_of(struct smmd *, const struct channel *ch);
struct channel *auth_channel_of(struct smmd *, const struct auth_slot *);
const struct auth_ops *auth_ops_of(const struct channel *);
int auth_has_tokens(const struct auth_slot *);
/* Answer the waiting smmctl auth: result (stolen), or msg as the error. */
void auth_later_done(struct auth_slot *, json_t *result, const char *msg);
/* Hold the channel (PAUSE_AUTH) for why, unless it is held already. */
void auth_needs(struct smmd *, struct auth_slot *, const char *why);
/* Send k (built by the caller); its answer comes to s. */
/* Send k (built by the caller); its answer comes to s. 0, or -1 when it
 * could not leave (logged, and a renewal is tried again later). */
int auth_ask_send(struct smmd *, struct auth_slot *, struct ask *k,
                  const struct channel *ch);
/* Ask for new tokens. 0 when asked; -1 when not (held, or OOM). */
int auth_renew(struct smmd *, struct auth_slot *, const char *why);
/* Do what is due and sleep until the next thing is. */
void auth_arm(struct auth *);
/* Before the slots read their files: take what PostgreSQL holds newer
 * (authshare.c). */
void auth_share_at_start(struct smmd *);
void auth_held_free(struct auth *);
/*
 * A channel taken over (auth_taken): its slot reads what PostgreSQL
 * holds, its posts waiting: 0, or -1 when busy (a renewal of its own
 * under way, or a read already) or out of memory. Then its file is read
 * again, and what waited goes.
 */
int auth_slot_reading(struct smmd *, const char *channel);
void auth_slot_reread(struct smmd *, const char *channel);

#endif
