/*
 * Re-reading smmd.yaml and the calendar. The files are parsed on libuv's
 * thread pool (a large calendar takes a while, and the loop must keep
 * firing posts meanwhile); the result is applied on the loop. A file with
 * errors never replaces what runs: the old configuration and schedule
 * stay, and the errors are reported.
 */
#ifndef SMMD_RELOAD_H
#define SMMD_RELOAD_H

#include <jansson.h>

struct smmd;

/*
 * Called once the reload is over: ok, with a summary ({config, calendar:
 * {added, updated, cancelled, unchanged, missed}}), or not, with errors
 * (an array of "FILE:LINE:COLUMN: message" strings). Both are borrowed.
 */
typedef void (*reload_done_cb)(void *arg, int ok, const json_t *summary,
                               const json_t *errors);

/*
 * Start a reload (or join the one under way). 0, -ENOMEM, or -EAGAIN
 * while the store cannot be written (outage.c: smmd reads the files again
 * when it starts afresh).
 */
int reload_start(struct smmd *, const char *why, reload_done_cb, void *arg);
/* Why reload_start refused, in words. */
const char *reload_refusal(int r);
/*
 * Load and apply the calendar at start-up, on the loop, before it runs.
 * Errors are logged; the stored schedule then runs as it is.
 */
void reload_calendar_at_start(struct smmd *);
/*
 * Apply the blackouts to what is scheduled already (at start-up, and
 * after each reload): shift what they now cover, put back what they no
 * longer do. Logged.
 */
void reload_blackouts(struct smmd *);
/*
 * Whether the calendar files differ from those the applied calendar was
 * read from (a watch event after 'smmctl reload' already read them need
 * not parse them again).
 */
int reload_calendar_changed(struct smmd *);
void reload_free(struct smmd *);

#endif
