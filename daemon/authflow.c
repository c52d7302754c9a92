/*
 * A person's side of a channel's credentials: `smmctl auth CHANNEL` (the
 * page to open with its PKCE challenge, then the code read back and
 * exchanged, or a login done at once), and how status and `smmctl
 * channels` show them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_impl.h"
#include "config.h"
#include "log.h"
#include "pause.h"
#include "smmd.h"
#include "timeparse.h"
#include "wallclock.h"

/* A channel whose token comes from its config: the person says it is fixed. */
static int static_token(struct smmd *d, const struct channel *ch,
                        const struct auth_asker *who, json_t **result,
                        char *err, size_t errlen)
{
	struct pause *p = pause_find(d, PAUSE_AUTH, ch->name);
	json_t *resumed;

	if (p == NULL) {
		snprintf(err, errlen,
		         "channel '%s' takes its token from its config "
		         "(token_file) and does not need auth; after changing "
		         "the file, run smmctl reload",
		         ch->name);
		return -1;
	}
	resumed = json_object();
	if (pause_resume(
	            d, p, RESUME_AUTO,
	            &(struct pause_actor){.uid = who->uid, .user = who->user},
	            "authorized", resumed) < 0) {
		json_decref(resumed);
		snprintf(err, errlen, "cannot resume channel '%s'", ch->name);
		return -1;
	}
	*result = json_pack("{s:s, s:b, s:o}", "channel", ch->name,
	                    "authorized", 1, "resumed", resumed);
	return 0;
}

static void remember(struct auth_slot *s, const struct auth_asker *who,
                     struct cmd_later *later)
{
	s->later = later;
	s->who_uid = who->uid;
	snprintf(s->who_user, sizeof(s->who_user), "%s",
	         who->user ? who->user : "?");
}

/* The first half of a browser flow: the page to open. */
static int begin(const struct channel *ch, struct auth_slot *s, json_t **result,
                 char *err, size_t errlen)
{
	const char *redirect =
	        ch->redirect_uri ? ch->redirect_uri : AUTH_REDIRECT_DEFAULT;
	char challenge[PKCE_CHALLENGE_LEN], url[4096], until[TIME_RFC3339_LEN];

	if (pkce_new(s->verifier, challenge) < 0 ||
	    oauth_state_new(s->state) < 0) {
		snprintf(err, errlen, "no randomness for the PKCE verifier");
		return -1;
	}
	if (ch->pub->auth->authorize_url(ch, redirect, challenge, s->state, url,
	                                 sizeof(url)) < 0) {
		snprintf(err, errlen, "cannot make the authorization address");
		return -1;
	}
	s->pending_until_ms = wallclock_now_ms() + AUTH_PENDING_MS;
	*result = json_pack("{s:s, s:s, s:s, s:s}", "channel", ch->name, "url",
	                    url, "redirect_uri", redirect, "until",
	                    time_format_rfc3339(s->pending_until_ms, until));
	return *result ? 0 : -1;
}

/* The second half: exchange the code the browser brought back. */
static int finish(struct smmd *d, const struct channel *ch, struct auth_slot *s,
                  const char *input, const struct auth_asker *who,
                  struct cmd_later *later, char *err, size_t errlen)
{
	const char *redirect =
	        ch->redirect_uri ? ch->redirect_uri : AUTH_REDIRECT_DEFAULT;
	char code[2048], state[256];
	struct ask *k;

	if (s->pending_until_ms < wallclock_now_ms()) {
		snprintf(err, errlen,
		         "no authorization of channel '%s' under way (or it "
		         "is over 15 minutes old): run smmctl auth %s again",
		         ch->name, ch->name);
		return -1;
	}
	if (oauth_redirect_parse(input, code, sizeof(code), state,
	                         sizeof(state), err, errlen) < 0)
		return -1;
	if (state[0] && strcmp(state, s->state) != 0) {
		snprintf(err, errlen,
		         "the address's state is not the one smmd sent: an "
		         "older page? run smmctl auth %s again",
		         ch->name);
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*k = (struct ask){
	        .d = d, .s = s, .what = "exchanging the code", .exchange = 1};
	if (ch->pub->auth->exchange_request(ch, code, s->verifier, redirect,
	                                    &k->req, err, errlen) < 0) {
		http_request_clear(&k->req);
		free(k);
		return -1;
	}
	/* One code, one exchange: the page is spent. */
	s->pending_until_ms = 0;
	if (auth_ask_send(d, s, k, ch) < 0) {
		snprintf(err, errlen,
		         "cannot send the code to the network now");
		return -1;
	}
	/* The answer comes later: never from inside the send. */
	remember(s, who, later);
	return 1;
}

int auth_command(struct smmd *d, const struct channel *ch, const char *code,
                 const struct auth_asker *who, struct cmd_later *later,
                 json_t **result, char *err, size_t errlen)
{
	const struct auth_ops *o = auth_ops_of(ch);
	struct auth_slot *s;

	if (o == NULL)
		return static_token(d, ch, who, result, err, errlen);
	if ((s = auth_slot_of(d, ch)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (s->later != NULL || s->busy != SLOT_IDLE) {
		snprintf(err, errlen,
		         "channel '%s' is already waiting for the network's "
		         "answer; try again in a moment",
		         ch->name);
		return -1;
	}
	if (o->login_request) {
		/* No person needed: log in now, answer when it is done. */
		if (auth_renew(d, s, "smmctl auth") < 0) {
			snprintf(err, errlen,
			         "cannot log channel '%s' in now (the log says "
			         "why)",
			         ch->name);
			return -1;
		}
		remember(s, who, later);
		return 1;
	}
	if (code == NULL) {
		if (o->authorize_url == NULL || o->exchange_request == NULL) {
			snprintf(err, errlen,
			         "publisher '%s' has no authorization flow",
			         ch->pub->name);
			return -1;
		}
		return begin(ch, s, result, err, errlen);
	}
	return finish(d, ch, s, code, who, later, err, errlen);
}

/* How status names a slot's state. */
static const char *state_of(struct smmd *d, const struct channel *ch,
                            const struct auth_slot *s)
{
	if (pause_find(d, PAUSE_AUTH, ch->name))
		return "needs_auth";
	if (s && s->busy != SLOT_IDLE)
		return "renewing";
	if (s && auth_has_tokens(s))
		return "ok";
	return auth_ops_of(ch) && auth_ops_of(ch)->login_request ? "logging_in"
	                                                         : "token_file";
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
	char t[TIME_RFC3339_LEN];

	if (ms >= 0)
		json_object_set_new(o, key,
		                    json_string(time_format_rfc3339(ms, t)));
}

json_t *auth_json(struct smmd *d, const struct channel *ch)
{
	struct auth_slot *s = auth_ops_of(ch) ? auth_slot_of(d, ch) : NULL;
	struct pause *p = pause_find(d, PAUSE_AUTH, ch->name);
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "state", json_string(state_of(d, ch, s)));
	if (s && auth_has_tokens(s)) {
		set_time(o, "expires", s->tok.access_expires_ms);
		set_time(o, "refresh_expires", s->tok.refresh_expires_ms);
	}
	if (p) {
		set_time(o, "since", p->since_ms);
		if (p->reason)
			json_object_set_new(o, "reason",
			                    json_string(p->reason));
	}
	return o;
}
