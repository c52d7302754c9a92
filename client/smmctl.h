/*
 * smmctl: what the client's files share. A command is one entry of the
 * table in cmd_table.c (tmux's cmd-*.c entries): its options are typed,
 * and one parser (ctl_args.c) reads them into the request, so the same
 * entry drives parsing, usage, help, bash completion and the man check.
 */
#ifndef SMM_SMMCTL_H
#define SMM_SMMCTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* PACKAGE_VERSION comes from configure, on the compiler's command line. */
#ifndef PACKAGE_VERSION
#error "PACKAGE_VERSION is not defined: build smmctl with the autotools build"
#endif

/* A reply bigger than this is refused: smmctl never buffers without bound. */
#define CTL_MAX_REPLY (64u * 1024 * 1024)
/* TEXT read from standard input ("-") is capped like any other input. */
#define CTL_MAX_STDIN_TEXT (1024u * 1024)
/* Seconds a send or a receive may stall before smmctl gives up on smmd. */
#define CTL_IO_TIMEOUT_S 60

/* One connection to smmd. */
struct ctl {
	const char *socket_path;
	int fd;
	int following; /* reading a stream's events: no receive timeout */
	json_int_t next_id;
	char *buf;  /* received bytes not yet consumed */
	size_t len; /* bytes used in buf */
	size_t cap; /* bytes allocated for buf */
};

/* What an option's value is; the parser checks and converts it. */
enum ctl_type {
	CTL_FLAG,    /* no value; with a key, sends true */
	CTL_STR,     /* a string (valid UTF-8) */
	CTL_TIME,    /* a TIME, sent as UTC RFC 3339 */
	CTL_DATE,    /* a TIME or YYYY-MM-DD (local midnight), sent as UTC */
	CTL_STATE,   /* a delivery state name (lib/states) */
	CTL_CHANNEL, /* a channel name: completed from smmd's channels */
	CTL_INT,     /* a decimal integer */
	CTL_POSTID,  /* a post id (lib/postid's rule) */
	CTL_FILE,    /* a file name: completed from the file system */
	CTL_ARG,     /* no option: the help row of a positional argument */
};

#define CTL_REPEAT   0x1 /* may be given again: fills an array */
#define CTL_REQUIRED 0x2 /* must be given */
#define CTL_HIDDEN   0x4 /* for programs: not in usage, help or completion */

/* One option of a command, spelled once. */
struct ctl_opt {
	const char *name; /* long name without "--"; a CTL_ARG's name */
	char letter;      /* short option, or 0 */
	enum ctl_type type;
	unsigned flags;   /* CTL_REPEAT, CTL_REQUIRED, CTL_HIDDEN */
	const char *key;  /* the request's "args" member; NULL: client only */
	const char *meta; /* the value's name in usage and help: "CHANNEL" */
	const char *help; /* its help row ('\n' continues it); NULL: none */
};

#define CTL_CMD_JSON   0x1 /* takes --json: print smmd's reply as JSON */
#define CTL_CMD_STREAM 0x2 /* event lines may follow the reply */

struct ctl_args;

/* One command: a table entry plus its run function. */
struct ctl_cmd {
	const char *name;
	const char *usage; /* NULL: made from opts; else the whole synopsis */
	const char *help;  /* one line */
	const struct ctl_opt *opts; /* ends with an entry whose name is NULL */
	const char *notes; /* lines printed under the option rows, or NULL */
	int min_args;      /* positional arguments */
	int max_args;
	unsigned flags; /* CTL_CMD_* */
	int (*run)(struct ctl *, struct ctl_args *);
};

/* At most this many options per command (a table limit, not input's). */
#define CTL_MAX_OPTS 16

/* A command's arguments once parsed; ctl_args_free releases them. */
struct ctl_args {
	const struct ctl_cmd *cmd;
	json_t *req; /* the request's args, filled from the options */
	int argc;    /* the positional arguments */
	char **argv;
	int json;                /* --json */
	int64_t now;             /* when TIME and DATE values were read */
	int count[CTL_MAX_OPTS]; /* times each option was given */
	const char *value[CTL_MAX_OPTS]; /* the last value of each */
};

/* smmctl.c */
void __attribute__((format(printf, 1, 2))) ctl_warnx(const char *fmt, ...);
int64_t ctl_now_ms(void);
const struct ctl_cmd *ctl_cmd_lookup(const char *name);

/* cmd_table.c: every command, NULL-terminated. */
extern const struct ctl_cmd *const ctl_cmds[];

/* ctl_conn.c */
void ctl_close(struct ctl *c);
int ctl_request(struct ctl *c, const char *cmd, const json_t *args,
                json_t **result);
/*
 * ctl_request on the same connection as the last one, where an error
 * reply's code (64 bytes) and message (4096) are the caller's to print.
 */
int ctl_request_msg(struct ctl *c, const char *cmd, const json_t *args,
                    json_t **result, char *code, char *msg);
/*
 * ctl_request for a command whose reply ({bytes, sha256}) is followed by
 * that many bytes (backup): they go to out, and must hash to sha256.
 */
int ctl_request_file(struct ctl *c, const char *cmd, const json_t *args,
                     int out, json_t **result);
int ctl_stream(struct ctl *c, const char *cmd, const json_t *args, int follow,
               int (*on_reply)(void *arg, const json_t *result),
               int (*on_event)(void *arg, const json_t *event), void *arg);

/* ctl_args.c */
#define CTL_ARGS_HELP (-1) /* ctl_args_parse printed the help */
int ctl_args_parse(struct ctl *c, const struct ctl_cmd *cmd, int argc,
                   char **argv, struct ctl_args *a);
void ctl_args_free(struct ctl_args *a);
int ctl_args_count(const struct ctl_args *a, const char *name);
const char *ctl_args_get(const struct ctl_args *a, const char *name);
int ctl_args_set(struct ctl_args *a, const char *key, const char *s,
                 const char *what);
int ctl_args_set_json(struct ctl_args *a, const char *key, json_t *v);
int ctl_args_request(struct ctl *c, struct ctl_args *a, const char *wire,
                     json_t **result);
int ctl_args_stream(struct ctl *c, struct ctl_args *a, const char *wire,
                    int follow,
                    int (*on_reply)(void *arg, const json_t *result),
                    int (*on_event)(void *arg, const json_t *event), void *arg);
int ctl_read_stdin(char **out);

/* ctl_out.c */
int ctl_print_json(const json_t *v);
const char *ctl_str(const json_t *obj, const char *key);
long long ctl_int(const json_t *obj, const char *key);
const char *ctl_local_time(const char *rfc3339, char *buf);
void ctl_put_text(FILE *out, const char *s, int oneline, int indent);
size_t ctl_cols(const char *s);
int ctl_columns(void);
void ctl_put_cell(const char *s, size_t cols, int pad);
void ctl_field(int indent, const char *label, const char *value);
const char *ctl_latency(const json_t *v, char *buf, size_t len);
const char *ctl_relative(int64_t ms, int64_t now, char *buf, size_t len);

/* ctl_help.c */
void ctl_help_usage(FILE *out, const struct ctl_cmd *cmd, int with_options);
void ctl_help_all(FILE *out);
void ctl_help_commands(FILE *out);
void ctl_help_options(FILE *out, const struct ctl_cmd *cmd);
void ctl_help_states(FILE *out);

/* The command entries, one per command, in the command-group files. */
extern const struct ctl_cmd cmd_add_entry, cmd_cancel_entry, cmd_retry_entry,
        cmd_resolve_entry, cmd_approve_entry; /* cmd_post.c */
extern const struct ctl_cmd cmd_list_entry, cmd_show_entry,
        cmd_status_entry; /* cmd_query.c */
extern const struct ctl_cmd cmd_calendar_entry, cmd_export_entry,
        cmd_queue_entry;                      /* cmd_agenda.c */
extern const struct ctl_cmd cmd_import_entry; /* cmd_import.c */
extern const struct ctl_cmd cmd_plan_entry;   /* cmd_plan.c */
extern const struct ctl_cmd cmd_goals_entry;  /* cmd_goals.c */
extern const struct ctl_cmd cmd_report_entry; /* cmd_report.c */
extern const struct ctl_cmd cmd_stats_entry;  /* cmd_stats.c */
extern const struct ctl_cmd cmd_auth_entry, cmd_channels_entry; /* cmd_auth.c */
extern const struct ctl_cmd cmd_reload_entry, cmd_backup_entry, cmd_log_entry,
        cmd_help_entry; /* cmd_admin.c */
extern const struct ctl_cmd cmd_pause_entry, cmd_resume_entry, cmd_held_entry,
        cmd_release_entry, cmd_skip_entry, cmd_audit_entry,
        cmd_planb_entry; /* cmd_planb.c */

#endif
