/*
 * OAuth 2.0's authorization-code flow as a person runs it once per
 * channel (`smmctl auth`): a PKCE verifier and its S256 challenge (RFC
 * 7636), a state that ties the answer to the question, and reading the
 * code back from the address the browser was sent to.
 */
#ifndef SMMD_PKCE_H
#define SMMD_PKCE_H

#include <stddef.h>

/* 32 random bytes in base64url: 43 characters, and the NUL. */
#define PKCE_VERIFIER_LEN 44
/* base64url of a SHA-256: 43 characters, and the NUL. */
#define PKCE_CHALLENGE_LEN 44
#define OAUTH_STATE_LEN    33

/* A new verifier and its challenge. 0, or -1 when randomness failed. */
int pkce_new(char verifier[PKCE_VERIFIER_LEN],
             char challenge[PKCE_CHALLENGE_LEN]);
/* The S256 challenge of verifier. */
void pkce_challenge(const char *verifier, char challenge[PKCE_CHALLENGE_LEN]);
/* A new state: 32 hex digits. 0, or -1. */
int oauth_state_new(char state[OAUTH_STATE_LEN]);
/*
 * What a person pastes back: the whole redirect address
 * (".../callback?code=C&state=S") or the code alone. Fills code and state
 * (state "" when not given), percent-decoded. 0; -1 with err set when it
 * is an error redirect (error=access_denied) or holds no code.
 */
int oauth_redirect_parse(const char *input, char *code, size_t codecap,
                         char *state, size_t statecap, char *err,
                         size_t errlen);
/* Percent-encode s for a query or a form body into out. 0, or -1. */
int oauth_form_escape(const char *s, char *out, size_t cap);

#endif
