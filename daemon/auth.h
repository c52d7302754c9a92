/*
 * Channels' credentials over their life: the OAuth tokens of the drivers
 * that have auth ops, kept in the state directory (tokenfile.h) and handed
 * to drivers through ch->tokens; renewed before they expire, through the
 * driver's refresh (or login) request, the new ones on disk before they
 * are used; and a channel whose credentials fail is put in needs_auth.
 *
 * needs_auth is a pause of its own kind (PAUSE_AUTH) on the channel: its
 * deliveries are held, never failed, its notify channel is told once, it
 * survives restarts, and `smmctl auth CHANNEL` ends it (the held posts go
 * out under the usual lateness rule). A channel goes there when the
 * network refuses its token and renewing cannot help, when it has none
 * and cannot log in, or when its token expires within AUTH_WARN_MS and
 * cannot be renewed.
 */
#ifndef SMMD_AUTH_H
#define SMMD_AUTH_H

#include <jansson.h>
#include <stdint.h>

struct channel;
struct cmd_later;
struct config;
struct smmd;
struct auth;

/* How long before an unrenewable expiry a channel needs auth. */
#define AUTH_WARN_MS (7LL * 24 * 3600 * 1000)
/* How long `smmctl auth`'s page stays good for its code. */
#define AUTH_PENDING_MS (15LL * 60 * 1000)

struct auth *auth_new(void);
/* After auth_close's timer is closed, or when never started. */
void auth_free(struct auth *);
/* Once the store and the pauses are loaded: read each channel's tokens,
 * log in where it can, arm the renewals. 0 or -errno. */
int auth_start(struct smmd *);
/* The store started, under this node's lease: a channel's tokens newer
 * here than in PostgreSQL go there (token_key_file; authshare.c). */
void auth_share_after_start(struct smmd *);
/*
 * This node now fires channel, which another node fired (claims), or
 * another node kept channel's tokens (NOTIFY smmd_token: a person's
 * smmctl auth on the working node, a worker's renewal): the tokens may
 * be newer than this node's file (X's refresh token is of one use), so
 * what PostgreSQL holds newer is installed, the channel's posts waiting
 * meanwhile.
 */
void auth_taken(struct smmd *, const char *channel);
/* 1 when cfg's token_key_file is not the one the start read (a reload
 * changes it only at the next start). */
int auth_key_changed(const struct smmd *, const struct config *cfg);
/* The config was replaced: give the new channels their tokens. */
void auth_reload(struct smmd *);
/* Shutdown: answer a waiting `smmctl auth`, close the timer. */
void auth_close(struct smmd *);

/*
 * Before a delivery on ch leaves: 0 when its credentials are usable; 1
 * when they are being renewed (or must be): the delivery waits, and auth
 * queues it again once they are (or the channel's pause holds it).
 */
int auth_gate(struct smmd *, const struct channel *ch, const char *delivery_id);
/*
 * The network refused ch's credentials (PUBLISH_NEEDS_AUTH), or it has
 * none (-EACCES): renew them if that can help, else needs_auth.
 */
void auth_refused(struct smmd *, const struct channel *ch, const char *reason);

/* Who asked for `smmctl auth`: for the audit trail and the resume. */
struct auth_asker {
	long uid;
	const char *user;
};
/*
 * smmctl auth CHANNEL. code NULL: the first half (a login is done at once;
 * a browser flow gets its page in *result). code given (the code, or the
 * address the browser was sent to): the second half. Returns 0 with
 * *result set (the reply), 1 when the reply comes through later, or -1
 * with err set.
 */
int auth_command(struct smmd *, const struct channel *ch, const char *code,
                 const struct auth_asker *who, struct cmd_later *later,
                 json_t **result, char *err, size_t errlen);
/* ch's credentials for status and channels: {state, expires, ...}. */
json_t *auth_json(struct smmd *, const struct channel *ch);

#endif
