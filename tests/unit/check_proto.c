/* Unit tests for lib/proto.c. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "proto.h"
#include "smm/protocol.h"

/* Parse a NUL-terminated line; the length excludes the terminator. */
static int parse(const char *line, struct proto_request *req, const char **code,
                 char *msg, size_t msglen)
{
	return proto_parse_request(line, strlen(line), req, code, msg, msglen);
}

/* Exactly one newline, at the end, and nothing but ASCII before it. */
static void assert_one_ascii_line(const char *s, size_t len)
{
	ck_assert_uint_eq(strlen(s), len);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(s[len - 1], '\n');
	for (size_t i = 0; i + 1 < len; i++) {
		ck_assert_int_ne(s[i], '\n');
		ck_assert_int_ne(s[i], '\r');
		ck_assert_uint_lt((unsigned char)s[i], 0x80);
	}
}

START_TEST(test_request_round_trip)
{
	json_t *args = json_pack("{s:[s, s], s:s, s:s, s:n}", "channels",
	                         "demo", "shop", "text", "hi\tthere", "at",
	                         "2026-11-22T10:00:00.000Z", "link");
	struct proto_request req;
	const char *code = NULL;
	char msg[128] = "";
	size_t len = 0;
	char *line;

	ck_assert_ptr_nonnull(args);
	line = proto_request_encode(42, "add", args, &len);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line,
	                 "{\"id\":42,\"cmd\":\"add\",\"args\":{\"channels\":"
	                 "[\"demo\",\"shop\"],\"text\":\"hi\\tthere\","
	                 "\"at\":\"2026-11-22T10:00:00.000Z\","
	                 "\"link\":null}}\n");
	assert_one_ascii_line(line, len);

	/* The daemon strips the newline before parsing. */
	ck_assert_int_eq(proto_parse_request(line, len - 1, &req, &code, msg,
	                                     sizeof(msg)),
	                 0);
	ck_assert_int_eq(req.id, 42);
	ck_assert_str_eq(req.cmd, "add");
	ck_assert(json_equal(req.args, args));
	proto_request_clear(&req);
	ck_assert_ptr_null(req.args);
	proto_request_clear(&req);
	proto_request_clear(NULL);
	free(line);
	json_decref(args);
}
END_TEST

START_TEST(test_request_defaults)
{
	struct proto_request req;
	const char *code = NULL;
	char msg[128];
	char *line;
	size_t len;

	/* No args: an empty object. No id: 0. */
	ck_assert_int_eq(
	        parse("{\"cmd\":\"status\"}", &req, &code, msg, sizeof(msg)),
	        0);
	ck_assert_int_eq(req.id, 0);
	ck_assert_str_eq(req.cmd, "status");
	ck_assert(json_is_object(req.args));
	ck_assert_uint_eq(json_object_size(req.args), 0);
	proto_request_clear(&req);

	/* Unknown top-level members are ignored, for later versions. */
	ck_assert_int_eq(parse(" {\"id\":-3,\"cmd\":\"hello\",\"x\":[1]} ",
	                       &req, &code, msg, sizeof(msg)),
	                 0);
	ck_assert_int_eq(req.id, -3);
	proto_request_clear(&req);

	/* 31 characters is the longest command name. */
	ck_assert_int_eq(parse("{\"id\":1,\"cmd\":\"abcdefghijklmnopqrstuvwxyz"
	                       "01234\"}",
	                       &req, &code, msg, sizeof(msg)),
	                 0);
	ck_assert_str_eq(req.cmd, "abcdefghijklmnopqrstuvwxyz01234");
	proto_request_clear(&req);

	/* Encoding without args sends {}. */
	line = proto_request_encode(1, "status", NULL, &len);
	ck_assert_str_eq(line, "{\"id\":1,\"cmd\":\"status\",\"args\":{}}\n");
	ck_assert_uint_eq(len, strlen(line));
	free(line);
	/* A command that is not UTF-8 cannot be encoded. */
	ck_assert_ptr_null(proto_request_encode(1, "st\xff", NULL, &len));
	ck_assert_ptr_null(proto_request_encode(1, NULL, NULL, &len));
}
END_TEST

START_TEST(test_request_length_honoured)
{
	const char buf[] = "{\"id\":1,\"cmd\":\"status\"}GARBAGE";
	struct proto_request req;
	const char *code = NULL;
	char msg[128];

	ck_assert_int_eq(
	        proto_parse_request(buf, 23, &req, &code, msg, sizeof(msg)), 0);
	ck_assert_str_eq(req.cmd, "status");
	proto_request_clear(&req);
	ck_assert_int_eq(proto_parse_request(buf, sizeof(buf) - 1, &req, &code,
	                                     msg, sizeof(msg)),
	                 -1);
	ck_assert_str_eq(code, SMM_ERR_INVALID_REQUEST);
}
END_TEST

static const struct {
	const char *line;
	json_int_t id;    /* recovered id */
	const char *want; /* a piece of the message */
} bad_requests[] = {
        {"", 0, "invalid JSON"},
        {"not json", 0, "invalid JSON"},
        {"{\"id\":4,\"cmd\":\"hel", 0, "invalid JSON"},
        {"[1,2]", 0, "must be a JSON object"},
        {"\"hello\"", 0, "invalid JSON"},
        {"42", 0, "invalid JSON"},
        {"null", 0, "invalid JSON"},
        {"{}", 0, "missing 'cmd'"},
        {"{\"id\":3}", 3, "missing 'cmd'"},
        {"{\"id\":3,\"cmd\":5}", 3, "'cmd' must be a string"},
        {"{\"id\":3,\"cmd\":null}", 3, "'cmd' must be a string"},
        {"{\"id\":3,\"cmd\":[\"add\"]}", 3, "'cmd' must be a string"},
        {"{\"id\":3,\"cmd\":\"\"}", 3, "'cmd' must be 1 to 31"},
        {"{\"id\":3,\"cmd\":\"abcdefghijklmnopqrstuvwxyz012345\"}", 3,
         "'cmd' must be 1 to 31"},
        {"{\"id\":\"3\",\"cmd\":\"hello\"}", 0, "'id' must be an integer"},
        {"{\"id\":3.5,\"cmd\":\"hello\"}", 0, "'id' must be an integer"},
        {"{\"id\":null,\"cmd\":\"hello\"}", 0, "'id' must be an integer"},
        {"{\"id\":true,\"cmd\":\"hello\"}", 0, "'id' must be an integer"},
        {"{\"id\":4,\"cmd\":\"hello\",\"args\":[]}", 4,
         "'args' must be an object"},
        {"{\"id\":4,\"cmd\":\"hello\",\"args\":\"x\"}", 4,
         "'args' must be an object"},
        {"{\"id\":4,\"cmd\":\"hello\",\"args\":null}", 4,
         "'args' must be an object"},
        {"{\"id\":4,\"cmd\":\"hello\",\"cmd\":\"status\"}", 0, "duplicate"},
        {"{\"id\":4,\"cmd\":\"hello\",\"args\":{\"a\":1,\"a\":2}}", 0,
         "duplicate"},
        {"{\"id\":4,\"cmd\":\"hello\"} x", 0, "invalid JSON"},
        {"{\"id\":4,\"cmd\":\"hello\"}{\"id\":5}", 0, "invalid JSON"},
        {"{\"id\":4,\"cmd\":\"he\\u0000llo\"}", 0, "invalid JSON"},
        {"{\"id\":4,\"cmd\":\"h\xffi\"}", 0, "invalid JSON"},
        {"{\"id\":4,\"cmd\":\"hi\n\"}", 0, "invalid JSON"},
        {"{\"id\":4,\"cmd\":\"x\",\"args\":{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]"
         "]]]]]]]]]]}}",
         0, "nested deeper"},
        {"{\"id\":99999999999999999999,\"cmd\":\"x\"}", 0, "invalid JSON"},
};

START_TEST(test_request_bad)
{
	struct proto_request req;
	const char *code = NULL;
	char msg[256] = "";

	ck_assert_int_eq(
	        parse(bad_requests[_i].line, &req, &code, msg, sizeof(msg)),
	        -1);
	ck_assert_ptr_nonnull(code);
	ck_assert_str_eq(code, SMM_ERR_INVALID_REQUEST);
	ck_assert_int_eq(req.id, bad_requests[_i].id);
	ck_assert_ptr_null(req.args);
	ck_assert_msg(strstr(msg, bad_requests[_i].want) != NULL,
	              "'%s': message '%s' lacks '%s'", bad_requests[_i].line,
	              msg, bad_requests[_i].want);
	/* Clearing a failed request is harmless. */
	proto_request_clear(&req);
}
END_TEST

START_TEST(test_request_raw_nul_and_limits)
{
	const char nul[] = "{\"id\":4,\"cmd\":\"he\0llo\"}";
	struct proto_request req;
	const char *code = NULL;
	char msg[16];
	char *big, *deep;
	size_t n = 0;

	ck_assert_int_eq(proto_parse_request(nul, sizeof(nul) - 1, &req, &code,
	                                     msg, sizeof(msg)),
	                 -1);
	ck_assert_str_eq(code, SMM_ERR_INVALID_REQUEST);
	/* The message is cut to the buffer, never overrun. */
	ck_assert_uint_lt(strlen(msg), sizeof(msg));

	/* A line over the limit is refused without being parsed. */
	big = malloc(SMM_MAX_LINE + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', SMM_MAX_LINE + 1);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	ck_assert_int_eq(proto_parse_request(big, SMM_MAX_LINE + 1, &req, &code,
	                                     NULL, 0),
	                 -1);
	ck_assert_str_eq(code, SMM_ERR_LINE_TOO_LONG);
	/* At the limit it is still fine (trailing whitespace is allowed). */
	ck_assert_int_eq(
	        proto_parse_request(big, SMM_MAX_LINE, &req, &code, NULL, 0),
	        0);
	proto_request_clear(&req);
	free(big);

	/* 30000 levels would make jansson recurse; the depth scan stops it. */
	deep = malloc(60000 + 64);
	ck_assert_ptr_nonnull(deep);
	n += (size_t)sprintf(deep, "{\"cmd\":\"x\",\"args\":{\"a\":");
	memset(deep + n, '[', 30000);
	n += 30000;
	memset(deep + n, ']', 30000);
	n += 30000;
	n += (size_t)sprintf(deep + n, "}}");
	ck_assert_int_eq(proto_parse_request(deep, n, &req, &code, NULL, 0),
	                 -1);
	ck_assert_str_eq(code, SMM_ERR_INVALID_REQUEST);
	free(deep);
}
END_TEST

START_TEST(test_request_brackets_in_strings)
{
	struct proto_request req;
	const char *code = NULL;
	char msg[128];
	const char *text;

	/* Brackets and escaped quotes inside strings are not nesting. */
	ck_assert_int_eq(
	        parse("{\"cmd\":\"add\",\"args\":{\"text\":"
	              "\"[[[[[[[[[[\\\"[[[[[[[[[[{{{{{{{{{{{{{{{{{\"}}",
	              &req, &code, msg, sizeof(msg)),
	        0);
	ck_assert_int_eq(
	        proto_get_string(req.args, "text", &text, 1, msg, sizeof(msg)),
	        0);
	ck_assert_str_eq(text, "[[[[[[[[[[\"[[[[[[[[[[{{{{{{{{{{{{{{{{{");
	proto_request_clear(&req);
}
END_TEST

START_TEST(test_reply_encoding)
{
	json_t *result = json_pack("{s:s, s:i, s:n}", "text",
	                           "a\nb\r\"q\" \\ caf\xc3\xa9 \xf0\x9f\x98\x80"
	                           " \xe2\x80\xa8",
	                           "n", 3, "link");
	size_t len = 0;
	char *line;

	ck_assert_ptr_nonnull(result);
	line = proto_reply_ok(5, result, &len);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "{\"id\":5,\"ok\":true,\"result\":{\"text\":"
	                       "\"a\\nb\\r\\\"q\\\" \\\\ caf\\u00E9 "
	                       "\\uD83D\\uDE00 \\u2028\",\"n\":3,"
	                       "\"link\":null}}\n");
	assert_one_ascii_line(line, len);
	/* Borrowed: the caller's reference is untouched. */
	ck_assert_int_eq(result->refcount, 1);
	free(line);
	json_decref(result);

	line = proto_reply_ok(1, NULL, &len);
	ck_assert_str_eq(line, "{\"id\":1,\"ok\":true,\"result\":{}}\n");
	ck_assert_uint_eq(len, strlen(line));
	free(line);

	line = proto_reply_ok(INT64_MAX, NULL, NULL);
	ck_assert_str_eq(line, "{\"id\":9223372036854775807,\"ok\":true,"
	                       "\"result\":{}}\n");
	free(line);
}
END_TEST

START_TEST(test_reply_error_encoding)
{
	size_t len = 0;
	char *line;

	line = proto_reply_error(2, SMM_ERR_UNKNOWN_CHANNEL,
	                         "unknown channel 'x' (known: demo, shop)",
	                         &len);
	ck_assert_str_eq(line, "{\"id\":2,\"ok\":false,\"error\":{\"code\":"
	                       "\"unknown_channel\",\"message\":\"unknown "
	                       "channel 'x' (known: demo, shop)\"}}\n");
	assert_one_ascii_line(line, len);
	free(line);

	/* A message that is not UTF-8 is kept, bytes >= 0x80 as '?'. */
	line = proto_reply_error(0, SMM_ERR_INVALID_REQUEST,
	                         "bad \xff\xfe byte\nsecond line", &len);
	ck_assert_str_eq(line, "{\"id\":0,\"ok\":false,\"error\":{\"code\":"
	                       "\"invalid_request\",\"message\":\"bad ?? "
	                       "byte\\nsecond line\"}}\n");
	assert_one_ascii_line(line, len);
	free(line);

	line = proto_reply_error(7, SMM_ERR_INTERNAL, NULL, &len);
	ck_assert_str_eq(line, "{\"id\":7,\"ok\":false,\"error\":{\"code\":"
	                       "\"internal\",\"message\":\"\"}}\n");
	free(line);
}
END_TEST

START_TEST(test_reply_parses_back)
{
	json_t *result = json_pack("{s:s, s:[i, i]}", "id", "p1", "list", 1, 2);
	json_t *got = NULL;
	json_int_t id = -1;
	int ok = -1;
	char code[32], msg[128], small[4];
	size_t len;
	const char *lit;
	char *line;

	line = proto_reply_ok(11, result, &len);
	ck_assert_int_eq(proto_parse_reply(line, len - 1, &id, &ok, &got, code,
	                                   sizeof(code), msg, sizeof(msg)),
	                 0);
	ck_assert_int_eq(id, 11);
	ck_assert_int_eq(ok, 1);
	ck_assert(json_equal(got, result));
	ck_assert_str_eq(code, "");
	ck_assert_str_eq(msg, "");
	json_decref(got);
	free(line);
	/* The trailing newline is allowed too. */
	line = proto_reply_ok(12, NULL, &len);
	ck_assert_int_eq(
	        proto_parse_reply(line, len, &id, &ok, &got, NULL, 0, NULL, 0),
	        0);
	ck_assert_int_eq(id, 12);
	ck_assert(json_is_object(got));
	json_decref(got);
	free(line);

	line = proto_reply_error(13, SMM_ERR_NOT_FOUND,
	                         "no post or delivery 'p9'", &len);
	ck_assert_int_eq(proto_parse_reply(line, len - 1, &id, &ok, &got, code,
	                                   sizeof(code), msg, sizeof(msg)),
	                 0);
	ck_assert_int_eq(id, 13);
	ck_assert_int_eq(ok, 0);
	ck_assert_ptr_null(got);
	ck_assert_str_eq(code, "not_found");
	ck_assert_str_eq(msg, "no post or delivery 'p9'");
	/* Small buffers truncate safely. */
	ck_assert_int_eq(proto_parse_reply(line, len - 1, &id, &ok, &got, small,
	                                   sizeof(small), small, sizeof(small)),
	                 0);
	ck_assert_str_eq(small, "no ");
	free(line);
	json_decref(result);

	/* ok without result means {}; an error without message means "". */
	lit = "{\"id\":1,\"ok\":true}";
	ck_assert_int_eq(proto_parse_reply(lit, strlen(lit), &id, &ok, &got,
	                                   code, sizeof(code), msg,
	                                   sizeof(msg)),
	                 0);
	ck_assert(json_is_object(got));
	json_decref(got);
	lit = "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"x\"}}";
	ck_assert_int_eq(proto_parse_reply(lit, strlen(lit), &id, &ok, &got,
	                                   code, sizeof(code), msg,
	                                   sizeof(msg)),
	                 0);
	ck_assert_str_eq(code, "x");
	ck_assert_str_eq(msg, "");
}
END_TEST

static const char *const bad_replies[] = {
        "",
        "garbage",
        "[]",
        "{\"ok\":true}",
        "{\"id\":1}",
        "{\"id\":\"1\",\"ok\":true}",
        "{\"id\":1,\"ok\":\"yes\"}",
        "{\"id\":1,\"ok\":1}",
        "{\"id\":1,\"ok\":false}",
        "{\"id\":1,\"ok\":false,\"error\":\"boom\"}",
        "{\"id\":1,\"ok\":false,\"error\":{\"message\":\"x\"}}",
        "{\"id\":1,\"ok\":false,\"error\":{\"code\":1}}",
        "{\"id\":1,\"ok\":false,\"error\":{\"code\":\"x\",\"message\":2}}",
        "{\"id\":1,\"ok\":true,\"ok\":false}",
        "{\"id\":1,\"ok\":true} {}",
};

START_TEST(test_reply_bad)
{
	json_t *got = (json_t *)1;
	json_int_t id = -1;
	int ok = -1;
	char code[32], msg[64];

	ck_assert_int_eq(proto_parse_reply(bad_replies[_i],
	                                   strlen(bad_replies[_i]), &id, &ok,
	                                   &got, code, sizeof(code), msg,
	                                   sizeof(msg)),
	                 -1);
	ck_assert_ptr_null(got);
}
END_TEST

START_TEST(test_get_string)
{
	json_t *args = json_pack("{s:s, s:i, s:n, s:[]}", "text", "hi", "n", 5,
	                         "link", "media");
	const char *out = "unset";
	char msg[64];

	ck_assert_int_eq(
	        proto_get_string(args, "text", &out, 1, msg, sizeof(msg)), 0);
	ck_assert_str_eq(out, "hi");

	msg[0] = '\0';
	ck_assert_int_eq(
	        proto_get_string(args, "campaign", &out, 1, msg, sizeof(msg)),
	        -1);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(msg, "missing 'campaign'");

	out = "unset";
	ck_assert_int_eq(
	        proto_get_string(args, "campaign", &out, 0, msg, sizeof(msg)),
	        0);
	ck_assert_ptr_null(out);

	ck_assert_int_eq(proto_get_string(args, "n", &out, 0, msg, sizeof(msg)),
	                 -1);
	ck_assert_str_eq(msg, "'n' must be a string");
	ck_assert_int_eq(
	        proto_get_string(args, "media", &out, 1, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "'media' must be a string");

	/* null is "not given". */
	out = "unset";
	ck_assert_int_eq(
	        proto_get_string(args, "link", &out, 0, msg, sizeof(msg)), 0);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(
	        proto_get_string(args, "link", &out, 1, msg, sizeof(msg)), -1);
	ck_assert_str_eq(msg, "missing 'link'");

	/* No args at all, and no message buffer. */
	ck_assert_int_eq(proto_get_string(NULL, "text", &out, 1, NULL, 0), -1);
	ck_assert_int_eq(proto_get_string(NULL, "text", &out, 0, NULL, 0), 0);
	json_decref(args);
}
END_TEST

static Suite *proto_suite(void)
{
	Suite *s = suite_create("proto");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_request_round_trip);
	tcase_add_test(tc, test_request_defaults);
	tcase_add_test(tc, test_request_length_honoured);
	tcase_add_loop_test(tc, test_request_bad, 0,
	                    sizeof(bad_requests) / sizeof(bad_requests[0]));
	tcase_add_test(tc, test_request_raw_nul_and_limits);
	tcase_add_test(tc, test_request_brackets_in_strings);
	tcase_add_test(tc, test_reply_encoding);
	tcase_add_test(tc, test_reply_error_encoding);
	tcase_add_test(tc, test_reply_parses_back);
	tcase_add_loop_test(tc, test_reply_bad, 0,
	                    sizeof(bad_replies) / sizeof(bad_replies[0]));
	tcase_add_test(tc, test_get_string);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(proto_suite)
