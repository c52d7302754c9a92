/*
 * smmctl: what the client's files share: the connection, the command
 * table's entry, and the helpers each command calls.
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
	json_int_t next_id;
	char *buf;  /* received bytes not yet consumed */
	size_t len; /* bytes used in buf */
	size_t cap; /* bytes allocated for buf */
};

struct ctl_command {
	const char *name;
	const char *usage;   /* arguments; '\n' continues on an indented line */
	const char *help;    /* one line */
	const char *options; /* option descriptions for "smmctl help CMD" */
	int (*run)(struct ctl *, const struct ctl_command *, int, char **);
};

/* smmctl.c */
void __attribute__((format(printf, 1, 2))) ctl_warnx(const char *fmt, ...);
int64_t ctl_now_ms(void);
const struct ctl_command *ctl_command_lookup(const char *name);

/* cmd_table.c: ends with an entry whose name is NULL. */
extern const struct ctl_command ctl_commands[];

/* ctl_conn.c */
int ctl_exit_for_code(const char *code);
int ctl_connect(struct ctl *c);
void ctl_close(struct ctl *c);
int ctl_send(struct ctl *c, const char *buf, size_t len);
int ctl_recv_line(struct ctl *c, char **line, size_t *linelen,
                  size_t *consumed);
void ctl_consume(struct ctl *c, size_t n);
int ctl_call(struct ctl *c, const char *cmd, const json_t *args,
             json_t **result, char *code_out, char *msg_out);
int ctl_incompatible(const char *daemon_protocol);
int ctl_hello(struct ctl *c);
int ctl_request(struct ctl *c, const char *cmd, const json_t *args,
                json_t **result);

/* ctl_out.c */
int ctl_print_json(const json_t *v);
const char *ctl_str(const json_t *obj, const char *key);
const char *ctl_local_time(const char *rfc3339, char *buf);
void ctl_put_textn(FILE *out, const char *s, size_t n, int oneline, int indent);
void ctl_put_text(FILE *out, const char *s, int oneline, int indent);
size_t ctl_width(const char *s);
size_t ctl_prefix_bytes(const char *s, size_t cols);
int ctl_columns(void);
uint32_t ctl_utf8_next(const unsigned char *s, size_t n, size_t *len);
int ctl_cp_width(uint32_t cp);
size_t ctl_fit(const char *s, size_t cols, size_t *width);
void ctl_put_cell(const char *s, size_t cols, int pad);
void ctl_field(int indent, const char *label, const char *value);
const char *ctl_latency(const json_t *v, char *buf, size_t len);
const char *ctl_relative(int64_t ms, int64_t now, char *buf, size_t len);

/* ctl_args.c */
int ctl_bad_option(const struct ctl_command *cmd, int ch, int opt, char **argv);
int ctl_command_help(const struct ctl_command *cmd);
void ctl_getopt_reset(void);
int ctl_read_stdin(char **out);
int ctl_set_string(json_t *args, const char *key, const char *s,
                   const char *what);
int ctl_append_string(json_t *args, const char *key, const char *s,
                      const char *what);
int ctl_parse_id_args(struct ctl *c, const struct ctl_command *cmd, int argc,
                      char **argv, int allow_json, int *json, const char **id);
int ctl_request_id(struct ctl *c, const char *cmd, const char *id,
                   json_t **result);

/* ctl_help.c */
void ctl_print_usage(FILE *out, const struct ctl_command *cmd,
                     int with_options);
void ctl_print_help(FILE *out);

/* The commands. */
int ctl_cmd_add(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_cancel(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_retry(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_resolve(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_list(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_show(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_status(struct ctl *, const struct ctl_command *, int, char **);
int ctl_parse_flags(struct ctl *c, const struct ctl_command *cmd, int argc,
                    char **argv, int *json);
int ctl_cmd_calendar(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_export(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_reload(struct ctl *, const struct ctl_command *, int, char **);
int ctl_cmd_help(struct ctl *, const struct ctl_command *, int, char **);

#endif
