/*
 * Whether a post's text fits a channel, the one check the calendar, plan
 * B scenarios, `smmctl add` and CSV import all make: measured in the
 * unit of the channel's network (its publisher's text_rule: X weighted
 * characters, Bluesky graphemes; code points when it has none) against
 * the channel's max_length if set, else the network's own limit.
 */
#ifndef SMMD_TEXTCHECK_H
#define SMMD_TEXTCHECK_H

#include <stddef.h>

struct channel;

/*
 * 0 if text fits ch (or ch sets no limit), with link (NULL: none) where
 * the network sends it inside the text; 1 if not, with msg set to
 * "text is N UNIT, M over channel 'C''s limit of L (NETWORK's rule)" or
 * "(max_length)" when the channel's own limit was the one passed.
 */
int textcheck(const struct channel *ch, const char *text, const char *link,
              char *msg, size_t cap);

#endif
