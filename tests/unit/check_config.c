/*
 * Config parser: each bad/NAME.yaml is loaded and its diagnostics, minus
 * the file name, must equal bad/NAME.err line for line.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "config.h"
#include "http.h"
#include "publishers/publisher.h"
#include "sign.h"

static char data_dir[4096];

/* Build the driver's request for a fixed delivery, as the dispatcher does. */
static void build(const struct channel *ch, struct http_request *req)
{
	json_t *media = json_array();
	struct delivery_view v = {
	        .delivery_id = "p1/demo",
	        .post_id = "p1",
	        .channel = "demo",
	        .text = "hello",
	        .media = media,
	        .webhook_id = "msg_1",
	        .scheduled_ms = 1700000000000,
	        .attempt = 1,
	};
	struct pub_step st = {0};
	char err[256];

	memset(req, 0, sizeof(*req));
	ck_assert_int_eq(ch->pub->build_request(ch, &v, &st, 1700000000000, req,
	                                        err, sizeof(err)),
	                 0);
	pub_step_clear(&st);
	json_decref(media);
}

static const char *header(const struct http_request *req, const char *name)
{
	size_t n = strlen(name);

	for (struct curl_slist *h = req->headers; h; h = h->next)
		if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':')
			return h->data + n + 2;
	return NULL;
}

static void find_data(void)
{
	const char *top = getenv("SMM_TOP_SRCDIR");

	snprintf(data_dir, sizeof(data_dir), "%s/tests/unit/data",
	         top ? top : "..");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

START_TEST(test_good_full)
{
	char path[4200];
	struct config_errors errs = {0};
	struct config *cfg;
	const struct channel *ch;

	snprintf(path, sizeof(path), "%s/good/full.yaml", data_dir);
	ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
	ck_assert_uint_eq(errs.len, 0);
	ck_assert_str_eq(cfg->state_dir, "/tmp/smmd-state");
	ck_assert_str_eq(cfg->socket_path, "/tmp/smmd.sock");
	ck_assert_uint_eq(cfg->max_in_flight, 32);
	ck_assert_int_eq(cfg->shutdown_grace_ms, 2000);
	ck_assert_uint_eq(cfg->nchannels, 2);
	ch = config_channel(cfg, "demo");
	ck_assert_ptr_nonnull(ch);
	ck_assert_ptr_eq(ch->pub, publisher_lookup("webhook"));
	{
		struct http_request req;

		build(ch, &req);
		ck_assert_str_eq(req.url, "http://127.0.0.1:8080/hook");
		ck_assert_ptr_null(header(&req, "webhook-signature"));
		http_request_clear(&req);
	}
	ck_assert_uint_eq(ch->max_in_flight, 4);
	ck_assert_int_eq(ch->timeout_ms, 10000);
	ck_assert_int_eq(ch->connect_timeout_ms, 500);
	ck_assert_uint_eq(ch->max_attempts, 3);
	ck_assert_int_eq(ch->retry_base_ms, 1000);
	ck_assert_int_eq(ch->retry_max_ms, 60000);
	ch = config_channel(cfg, "shop-x");
	ck_assert_ptr_nonnull(ch);
	/* Defaults. */
	ck_assert_int_eq(ch->timeout_ms, 10000);
	ck_assert_uint_eq(ch->max_attempts, 8);
	/* The cadence, and where it was written, for its warnings. */
	ck_assert_uint_eq(ch->cadence.n, 3);
	ck_assert_int_eq(ch->cadence.unit, CADENCE_WEEK);
	ck_assert_int_eq(ch->cadence.min_gap_ms, 36 * 3600 * 1000);
	ck_assert_uint_eq(ch->cadence_line, 18);
	ck_assert_uint_eq(ch->cadence_column, 14);
	ck_assert_uint_eq(config_channel(cfg, "demo")->cadence.n, 0);
	ck_assert_uint_eq(config_channel(cfg, "demo")->cadence_line, 0);
	ck_assert_ptr_null(config_channel(cfg, "nope"));
	/* Found through the index, every channel of it. */
	ck_assert_uint_eq(hashtab_len(&cfg->channel_index), cfg->nchannels);
	{
		char *names = config_channel_names(cfg);

		ck_assert_str_eq(names, "demo, shop-x");
		free(names);
	}
	config_unref(cfg);
}
END_TEST

/* Every bad/X.yaml yields exactly the lines of bad/X.err. */
START_TEST(test_bad_files)
{
	char dir[4200], path[4400], errpath[4400];
	struct dirent *de;
	DIR *dp;
	int checked = 0, expected = 0;

	snprintf(dir, sizeof(dir), "%s/bad", data_dir);
	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name), plen;
		struct config_errors errs = {0};
		struct config *cfg = NULL;
		char *want, *got = NULL;
		size_t gotlen = 0;
		FILE *mem;

		if (n > 4 && strcmp(de->d_name + n - 4, ".err") == 0)
			expected++;
		if (n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(errpath, sizeof(errpath), "%s/%.*s.err", dir,
		         (int)(n - 5), de->d_name);
		ck_assert_msg(config_load(path, &cfg, &errs) == -1, "%s loaded",
		              de->d_name);
		ck_assert_ptr_null(cfg);
		mem = open_memstream(&got, &gotlen);
		plen = strlen(path);
		for (size_t i = 0; i < errs.len; i++) {
			/* Every line names the file first. */
			ck_assert_msg(strncmp(errs.lines[i], path, plen) == 0 &&
			                      errs.lines[i][plen] == ':',
			              "%s", errs.lines[i]);
			fprintf(mem, "%s\n", errs.lines[i] + plen + 1);
		}
		fclose(mem);
		want = slurp(errpath);
		ck_assert_msg(want != NULL, "missing %s", errpath);
		ck_assert_msg(strcmp(got, want) == 0, "%s:\ngot:\n%swant:\n%s",
		              de->d_name, got, want);
		free(want);
		free(got);
		config_errors_clear(&errs);
		checked++;
	}
	closedir(dp);
	/* Every .err has its .yaml: none can drop out unnoticed. */
	ck_assert_int_ge(checked, 6);
	ck_assert_int_eq(checked, expected);
}
END_TEST

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Secrets: read as bytes; a file others can read is refused. */
START_TEST(test_secret_file)
{
	char tmpl[] = "/tmp/smmd-check-config-XXXXXX", cfgpath[256],
	     secret[256], yaml[1024];
	struct config_errors errs = {0};
	struct config *cfg;
	const struct channel *ch;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(cfgpath, sizeof(cfgpath), "%s/smmd.yaml", tmpl);
	snprintf(secret, sizeof(secret), "%s/hook.secret", tmpl);
	/* Relative secret_file: relative to the config file's folder. */
	snprintf(yaml, sizeof(yaml),
	         "state_dir: state\n"
	         "channels:\n"
	         "  demo:\n"
	         "    publisher: webhook\n"
	         "    url: http://127.0.0.1/h\n"
	         "    secret_file: hook.secret\n");
	write_file(cfgpath, yaml, 0600);
	write_file(secret, "s3cr3t\n", 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	ch = config_channel(cfg, "demo");
	{
		struct http_request req;
		char want[SIGN_HEADER_LEN];

		/* Signed with every byte of the file, newline included. */
		build(ch, &req);
		ck_assert_int_eq(sign_webhook((const unsigned char *)"s3cr3t\n",
		                              7, "msg_1", 1700000000, req.body,
		                              req.body_len, want),
		                 0);
		ck_assert_str_eq(header(&req, "webhook-signature"), want);
		http_request_clear(&req);
	}
	ck_assert(strncmp(cfg->state_dir, tmpl, strlen(tmpl)) == 0);
	config_unref(cfg);

	ck_assert_int_eq(chmod(secret, 0640), 0);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_uint_eq(errs.len, 1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], ":6:18: "));
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "readable by group"));
	/* The message names the file, never its content. */
	ck_assert_ptr_null(strstr(errs.lines[0], "s3cr3t"));
	config_errors_clear(&errs);

	unlink(secret);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "No such file"));
	config_errors_clear(&errs);
	unlink(cfgpath);
	rmdir(tmpl);
}
END_TEST

/* systemd credentials: "credential:NAME" reads $CREDENTIALS_DIRECTORY/NAME. */
START_TEST(test_credentials)
{
	char tmpl[] = "/tmp/smmd-check-cred-XXXXXX", cfgpath[256], cred[256];
	struct config_errors errs = {0};
	struct config *cfg;
	struct http_request req;
	char want[SIGN_HEADER_LEN];

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(cfgpath, sizeof(cfgpath), "%s/smmd.yaml", tmpl);
	snprintf(cred, sizeof(cred), "%s/hook-key", tmpl);
	write_file(cfgpath,
	           "state_dir: state\n"
	           "channels:\n"
	           "  demo:\n"
	           "    publisher: webhook\n"
	           "    url: http://127.0.0.1/h\n"
	           "    secret_file: credential:hook-key\n",
	           0600);
	write_file(cred, "from-systemd", 0400);

	/* Without systemd's variable the key says what it needs. */
	unsetenv("CREDENTIALS_DIRECTORY");
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], ":6:18: "));
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "CREDENTIALS_DIRECTORY"));
	config_errors_clear(&errs);

	setenv("CREDENTIALS_DIRECTORY", tmpl, 1);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	build(config_channel(cfg, "demo"), &req);
	ck_assert_int_eq(sign_webhook((const unsigned char *)"from-systemd", 12,
	                              "msg_1", 1700000000, req.body,
	                              req.body_len, want),
	                 0);
	ck_assert_str_eq(header(&req, "webhook-signature"), want);
	http_request_clear(&req);
	config_unref(cfg);

	/* A name that tries to leave the directory is refused. */
	write_file(cfgpath,
	           "state_dir: state\n"
	           "channels:\n"
	           "  demo:\n"
	           "    publisher: webhook\n"
	           "    url: http://127.0.0.1/h\n"
	           "    secret_file: credential:../hook-key\n",
	           0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "invalid credential name"));
	config_errors_clear(&errs);
	unsetenv("CREDENTIALS_DIRECTORY");
	unlink(cred);
	unlink(cfgpath);
	rmdir(tmpl);
}
END_TEST

/* url_file: a secret URL, checked without being echoed; not with url. */
START_TEST(test_webhook_url_file)
{
	char tmpl[] = "/tmp/smmd-check-urlfile-XXXXXX", cfgpath[256], urlf[256],
	     yaml[512];
	struct config_errors errs = {0};
	struct config *cfg;
	struct http_request req;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(cfgpath, sizeof(cfgpath), "%s/smmd.yaml", tmpl);
	snprintf(urlf, sizeof(urlf), "%s/hook.url", tmpl);
	snprintf(yaml, sizeof(yaml),
	         "state_dir: state\n"
	         "channels:\n"
	         "  demo:\n"
	         "    publisher: webhook\n"
	         "    url_file: hook.url\n");
	write_file(cfgpath, yaml, 0600);
	write_file(urlf, "http://127.0.0.1/T0KEN-secret\n", 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	build(config_channel(cfg, "demo"), &req);
	ck_assert_str_eq(req.url, "http://127.0.0.1/T0KEN-secret");
	http_request_clear(&req);
	config_unref(cfg);

	write_file(urlf, "not a url T0KEN-secret\n", 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "http or https URL"));
	ck_assert_ptr_null(strstr(errs.lines[0], "T0KEN"));
	config_errors_clear(&errs);

	snprintf(yaml, sizeof(yaml),
	         "state_dir: state\n"
	         "channels:\n"
	         "  demo:\n"
	         "    publisher: webhook\n"
	         "    url: http://127.0.0.1/a\n"
	         "    url_file: hook.url\n");
	write_file(cfgpath, yaml, 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], ":6:15: give 'url' or "
	                                            "'url_file', not both"));
	config_errors_clear(&errs);
	unlink(urlf);
	unlink(cfgpath);
	rmdir(tmpl);
}
END_TEST

/*
 * store_url_file: a postgresql:// URL with a password, from a file; it is
 * never echoed in an error. store: sqlite is the default spelled out.
 */
START_TEST(test_store_url_file)
{
	char tmpl[] = "/tmp/smmd-check-storeurl-XXXXXX", cfgpath[256],
	     urlf[256];
	static const char base[] = "channels:\n"
	                           "  demo:\n"
	                           "    publisher: webhook\n"
	                           "    url: http://127.0.0.1/a\n"
	                           "state_dir: state\n";
	char yaml[512];
	struct config_errors errs = {0};
	struct config *cfg;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(cfgpath, sizeof(cfgpath), "%s/smmd.yaml", tmpl);
	snprintf(urlf, sizeof(urlf), "%s/store.url", tmpl);
	snprintf(yaml, sizeof(yaml), "%sstore_url_file: store.url\n", base);
	write_file(cfgpath, yaml, 0600);
	write_file(urlf, "postgresql://smmd:S3CRET@db/smmd\n", 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	ck_assert_str_eq(cfg->store_url, "postgresql://smmd:S3CRET@db/smmd");
	config_unref(cfg);

	write_file(urlf, "mysql://smmd:S3CRET@db/smmd\n", 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "one postgresql:// URL"));
	ck_assert_ptr_null(strstr(errs.lines[0], "S3CRET"));
	config_errors_clear(&errs);

	/* Both at once; a password however it is spelt. */
	snprintf(yaml, sizeof(yaml),
	         "%sstore: postgresql://db/smmd\nstore_url_file: store.url\n",
	         base);
	write_file(cfgpath, yaml, 0600);
	write_file(urlf, "postgresql://smmd@db/smmd\n", 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0],
	                             "give 'store' or "
	                             "'store_url_file', not both"));
	config_errors_clear(&errs);
#ifdef HAVE_LIBPQ /* as libpq reads it: percent-encoded keywords too */
	snprintf(yaml, sizeof(yaml),
	         "%sstore: postgresql://db/smmd?pass%%77ord=S3CRET\n", base);
	write_file(cfgpath, yaml, 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "goes in a file"));
	ck_assert_ptr_null(strstr(errs.lines[0], "S3CRET"));
	config_errors_clear(&errs);
#endif

	snprintf(yaml, sizeof(yaml), "%sstore: sqlite\n", base);
	write_file(cfgpath, yaml, 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	ck_assert_ptr_null(cfg->store_url);
	config_unref(cfg);

	/* token_key_file: long enough, and only beside a postgresql store;
	 * two nodes reading the same file make the same key. */
	{
		char keyf[256];
		unsigned char first[TOKENSEAL_KEY_LEN];

		snprintf(keyf, sizeof(keyf), "%s/token.key", tmpl);
		write_file(keyf, "0123456789abcdef0123456789abcdef9\n", 0600);
		snprintf(yaml, sizeof(yaml),
		         "%sstore: postgresql://db/smmd\n"
		         "token_key_file: token.key\n",
		         base);
		write_file(cfgpath, yaml, 0600);
		ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
		ck_assert_int_eq(cfg->has_token_key, 1);
		memcpy(first, cfg->token_key, sizeof(first));
		config_unref(cfg);
		ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
		ck_assert_int_eq(memcmp(first, cfg->token_key, sizeof(first)),
		                 0);
		config_unref(cfg);
		write_file(keyf, "0123456789abcdef0123456789abcde\n", 0600);
		ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
		ck_assert_ptr_nonnull(strstr(errs.lines[0],
		                             ":7:17: 'token_key_file': the "
		                             "file must hold at least 32 "
		                             "bytes"));
		config_errors_clear(&errs);
		write_file(keyf, "0123456789abcdef0123456789abcdef9\n", 0644);
		ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
		config_errors_clear(&errs);
		write_file(keyf, "0123456789abcdef0123456789abcdef9\n", 0600);
		snprintf(yaml, sizeof(yaml), "%stoken_key_file: token.key\n",
		         base);
		write_file(cfgpath, yaml, 0600);
		ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), -1);
		ck_assert_ptr_nonnull(strstr(errs.lines[0],
		                             ":6:17: 'token_key_file' is for "
		                             "several nodes on a postgresql "
		                             "store"));
		config_errors_clear(&errs);
		unlink(keyf);
	}

	snprintf(yaml, sizeof(yaml), "%sstore: postgres:///smmd?host=/run\n",
	         base);
	write_file(cfgpath, yaml, 0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	ck_assert_str_eq(cfg->store_url, "postgres:///smmd?host=/run");
	config_unref(cfg);
	unlink(urlf);
	unlink(cfgpath);
	rmdir(tmpl);
}
END_TEST

/*
 * require_approval: the top level's is every channel's default, and a
 * channel may say otherwise either way; approvers_group names a group.
 */
START_TEST(test_require_approval)
{
	char tmpl[] = "/tmp/smmd-check-approval-XXXXXX", cfgpath[256];
	struct config_errors errs = {0};
	struct config *cfg;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(cfgpath, sizeof(cfgpath), "%s/smmd.yaml", tmpl);
	/* The top-level key after the channels still applies to them. */
	write_file(cfgpath,
	           "state_dir: state\n"
	           "channels:\n"
	           "  shop:\n"
	           "    publisher: webhook\n"
	           "    url: http://127.0.0.1/h\n"
	           "  alerts:\n"
	           "    publisher: webhook\n"
	           "    url: http://127.0.0.1/a\n"
	           "    require_approval: false\n"
	           "approvers_group: root\n"
	           "require_approval: true\n",
	           0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	ck_assert_int_eq(cfg->require_approval, 1);
	ck_assert_str_eq(cfg->approvers_group, "root");
	ck_assert_uint_eq(cfg->approvers_gid, 0);
	ck_assert_int_eq(config_channel(cfg, "shop")->require_approval, 1);
	ck_assert_int_eq(config_channel(cfg, "alerts")->require_approval, 0);
	config_unref(cfg);

	/* Unset everywhere: nothing waits for approval. */
	write_file(cfgpath,
	           "state_dir: state\n"
	           "channels:\n"
	           "  shop:\n"
	           "    publisher: webhook\n"
	           "    url: http://127.0.0.1/h\n"
	           "  blog:\n"
	           "    publisher: webhook\n"
	           "    url: http://127.0.0.1/b\n"
	           "    require_approval: yes\n",
	           0600);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	ck_assert_ptr_null(cfg->approvers_group);
	ck_assert_int_eq(config_channel(cfg, "shop")->require_approval, 0);
	ck_assert_int_eq(config_channel(cfg, "blog")->require_approval, 1);
	config_unref(cfg);
	unlink(cfgpath);
	rmdir(tmpl);
}
END_TEST

/* metrics_listen: each value, and what it means or why it is refused. */
START_TEST(test_metrics_listen)
{
	static const struct {
		const char *value, *canon; /* canon NULL: an error */
		int family;
	} cases[] = {
	        {"9464", "127.0.0.1:9464", AF_INET},
	        {"127.0.0.1:9464", "127.0.0.1:9464", AF_INET},
	        {"0.0.0.0:80", "0.0.0.0:80", AF_INET},
	        {"\"[::1]:9464\"", "[::1]:9464", AF_INET6},
	        {"\"[0:0::1]:1\"", "[::1]:1", AF_INET6},
	        {"\"[::]:65535\"", "[::]:65535", AF_INET6},
	        {"0", NULL, 0},
	        {"65536", NULL, 0},
	        {"localhost:9464", NULL, 0},
	        {"\"::1:9464\"", NULL, 0},
	        {"\":9464\"", NULL, 0},
	        {"\"[::1]\"", NULL, 0},
	        {"\"1.2.3.4:+80\"", NULL, 0},
	        {"\"1.2.3:80\"", NULL, 0},
	        {"{a: 1}", NULL, 0},
	};
	char tmpl[] = "/tmp/smmd-check-metrics-XXXXXX", path[256], text[512];
	struct config_errors errs = {0};
	struct config *cfg;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	snprintf(path, sizeof(path), "%s/smmd.yaml", tmpl);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(
		        text, sizeof(text),
		        "state_dir: state\n"
		        "metrics_listen: %s\n"
		        "channels:\n"
		        "  demo: {publisher: webhook, url: http://127.0.0.1/h}\n",
		        cases[i].value);
		write_file(path, text, 0600);
		if (cases[i].canon == NULL) {
			ck_assert_int_eq(config_load(path, &cfg, &errs), -1);
			ck_assert_uint_eq(errs.len, 1);
			/* At the value: line 2, column 17. */
			ck_assert_msg(strstr(errs.lines[0],
			                     ":2:17: 'metrics_"
			                     "listen' must be") != NULL,
			              "%s: %s", cases[i].value, errs.lines[0]);
			config_errors_clear(&errs);
			continue;
		}
		ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
		ck_assert_str_eq(cfg->metrics_listen, cases[i].canon);
		ck_assert_int_eq(cfg->metrics_addr.ss_family, cases[i].family);
		config_unref(cfg);
	}
	/* Off unless asked for. */
	write_file(path,
	           "state_dir: state\nchannels:\n"
	           "  demo: {publisher: webhook, url: http://127.0.0.1/h}\n",
	           0600);
	ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
	ck_assert_ptr_null(cfg->metrics_listen);
	config_unref(cfg);
	unlink(path);
	rmdir(tmpl);
}
END_TEST

START_TEST(test_missing_file)
{
	struct config_errors errs = {0};
	struct config *cfg;

	ck_assert_int_eq(config_load("/nonexistent/smmd.yaml", &cfg, &errs),
	                 -1);
	ck_assert_uint_eq(errs.len, 1);
	ck_assert_str_eq(errs.lines[0], "/nonexistent/smmd.yaml:0:0: cannot "
	                                "open: No such file or directory");
	config_errors_clear(&errs);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	find_data();
	tcase_add_test(tc, test_good_full);
	tcase_add_test(tc, test_bad_files);
	tcase_add_test(tc, test_secret_file);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_credentials);
	tcase_add_test(tc, test_webhook_url_file);
	tcase_add_test(tc, test_store_url_file);
	tcase_add_test(tc, test_require_approval);
	tcase_add_test(tc, test_metrics_listen);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(config_suite)
