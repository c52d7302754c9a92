/*
 * Post and delivery identifiers. A post id is 1..128 characters from
 * [A-Za-z0-9._:@+-] (no '/', which separates a delivery id
 * "<post id>/<channel>"). Generated ids are sortable by creation time.
 */
#ifndef SMM_POSTID_H
#define SMM_POSTID_H

#include <stddef.h>
#include <stdint.h>

#define POSTID_MAX 128
/* Generated ids: 10 Crockford base32 chars of ms time + 6 random = 16. */
#define POSTID_GEN_LEN 17

/* 1 if s is a valid post id (or channel name: same alphabet), else 0. */
int postid_valid(const char *s);

/*
 * Write a new sortable id for time now_ms into out (POSTID_GEN_LEN), using
 * rnd for the random part (the caller supplies entropy).
 */
void postid_generate(int64_t now_ms, uint64_t rnd, char *out);

/*
 * hash_str(s) (lib/hash.h): for the tables keyed by delivery ids and
 * channel names. Kept for its callers; new code calls hash_str.
 */
uint64_t postid_hash(const char *s);

/* The channel part of a delivery id "<post id>/<channel>" (all of it
 * without a '/'). */
const char *postid_channel(const char *delivery_id);

/* 1 if s starts like an http:// or https:// URL (curl judges the rest). */
int url_is_http(const char *s);
/*
 * 1 if s can name a media file in a channel's media_dir: a plain name of
 * letters, digits and ._- (1 to 255), never a path, never hidden.
 */
int media_name_valid(const char *s);

#endif
