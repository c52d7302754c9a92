/* cmd_table: every smmctl command; dispatch, usage and help come from here. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "smm/protocol.h"
#include "smmctl.h"

/* The command table: dispatch, usage and help all come from here. */
const struct ctl_command ctl_commands[] = {
        {
                .name = "add",
                .usage =
                        "-c CHANNEL [-c CHANNEL ...] [--at TIME] [--link URL]\n"
                        "[--campaign NAME] [--id ID] [--media URL ...] TEXT",
                .help = "queue a post on one or more channels; prints its id",
                .options =
                        "  -c, --channel CHANNEL  publish on CHANNEL (repeat for more)\n"
                        "  --at TIME              when to publish (default: now)\n"
                        "  --link URL             link sent with the post\n"
                        "  --campaign NAME        campaign the post belongs to\n"
                        "  --id ID                the post id (default: a generated, sortable one)\n"
                        "  --media URL            attach a media URL (repeat for more)\n"
                        "  TEXT                   the text; \"-\" reads it from standard input\n",
                .run = ctl_cmd_add,
        },
        {
                .name = "list",
                .usage = "[--status STATE] [--json]",
                .help = "list deliveries, ordered by due time",
                .options =
                        "  --status STATE  only deliveries in STATE: scheduled, publishing,\n"
                        "                  retry_wait, published, failed, cancelled, unknown,\n"
                        "                  held, skipped or missed\n"
                        "  --json          print smmd's reply as JSON\n",
                .run = ctl_cmd_list,
        },
        {
                .name = "calendar",
                .usage =
                        "[--from DATE] [--to DATE] [-c CHANNEL] [--cancelled]\n"
                        "[--json]",
                .help = "the deliveries ahead, day by day in local time",
                .options =
                        "  --from DATE         start (default: now)\n"
                        "  --to DATE           end, excluded (default: 14 days after the start)\n"
                        "  -c, --channel NAME  only the deliveries on channel NAME\n"
                        "  --cancelled         show cancelled deliveries too\n"
                        "  --json              print smmd's reply as JSON\n"
                        "  DATE is a TIME, or YYYY-MM-DD for the local midnight that\n"
                        "  begins that day: --to 2026-12-01 ends with November 30.\n",
                .run = ctl_cmd_calendar,
        },
        {
                .name = "export",
                .usage = "--ics [--from DATE] [--to DATE] [-c CHANNEL]",
                .help = "print the deliveries as an iCalendar (RFC 5545) file",
                .options =
                        "  --ics               iCalendar, one event per delivery (the only format)\n"
                        "  --from DATE         start (default: now)\n"
                        "  --to DATE           end, excluded (default: 14 days after the start)\n"
                        "  -c, --channel NAME  only the deliveries on channel NAME\n"
                        "  DATE as for calendar. Cancelled deliveries are left out; the\n"
                        "  others are events \"[state] channel: first line\" with the\n"
                        "  delivery id as a stable UID, so importing again updates them.\n",
                .run = ctl_cmd_export,
        },
        {
                .name = "show",
                .usage = "[--json] ID",
                .help = "show a post (or one delivery) with every attempt",
                .options =
                        "  ID      a post id, or a delivery id POST/CHANNEL\n"
                        "  --json  print smmd's reply as JSON\n",
                .run = ctl_cmd_show,
        },
        {
                .name = "cancel",
                .usage = "ID",
                .help = "cancel the pending deliveries of a post (or one delivery)",
                .options =
                        "  ID  a post id, or a delivery id POST/CHANNEL; only\n"
                        "      scheduled and retry_wait deliveries can be cancelled\n",
                .run = ctl_cmd_cancel,
        },
        {
                .name = "retry",
                .usage = "ID",
                .help = "send an unknown or failed delivery again, now",
                .options =
                        "  ID  a delivery id POST/CHANNEL (or a post id with a "
                        "single delivery)\n",
                .run = ctl_cmd_retry,
        },
        {
                .name = "resolve",
                .usage = "ID --published [--url URL] | --failed",
                .help = "record by hand what became of an unknown or failed "
                        "delivery",
                .options =
                        "  ID           a delivery id POST/CHANNEL (or a post "
                        "id with a single delivery)\n"
                        "  --published  it did go out (--url: where it is)\n"
                        "  --failed     it did not go out and must not be "
                        "retried\n",
                .run = ctl_cmd_resolve,
        },
        {
                .name = "reload",
                .usage = "[--json]",
                .help = "re-read smmd.yaml and the calendar; print what changed",
                .options =
                        "  --json  print smmd's reply as JSON\n"
                        "  A file with errors changes nothing: every error is printed\n"
                        "  as FILE:LINE:COLUMN: message and the schedule keeps running.\n",
                .run = ctl_cmd_reload,
        },
        {
                .name = "status",
                .usage = "[--json]",
                .help = "show smmd's version, uptime, counts per state and channels",
                .options = "  --json  print smmd's reply as JSON\n",
                .run = ctl_cmd_status,
        },
        {
                .name = "help",
                .usage = "[COMMAND]",
                .help = "show this help, or the details of one command",
                .options = NULL,
                .run = ctl_cmd_help,
        },
        {.name = NULL},
};
