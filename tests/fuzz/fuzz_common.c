#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char dir[512];
static char path_buf[1024];
static struct config *cfg;

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_dir(void)
{
	/* Only the process that made it: a forked child leaves it be. */
	if (dir[0] != '\0')
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (dir[0] != '\0')
		return dir;
	/*
	 * Memory, where there is some: every input is written to a file,
	 * and a store not started syncs each commit (5 ms on a disk).
	 */
	if (tmp == NULL || *tmp == '\0')
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/smm-fuzz.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror("fuzz: mkdtemp");
		exit(1);
	}
	atexit(remove_dir);
	return dir;
}

const char *fuzz_path(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", fuzz_dir(), name);
	return path_buf;
}

const char *fuzz_write(const char *name, const void *data, size_t len)
{
	const char *path = fuzz_path(name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			perror(path);
			exit(1);
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	return path;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

size_t fuzz_yaml_quote(char *buf, size_t len, size_t cap, const char *s,
                       size_t n)
{
	/* Worst case: every byte as \xHH, and the two quotes and a NUL. */
	if (cap - len < 4 * n + 3)
		return (size_t)-1;
	buf[len++] = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/*
		 * Bytes from 0x80 go as they are: YAML reads UTF-8, and
		 * \xHH would make a different character of them.
		 */
		if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f)
			len += (size_t)snprintf(buf + len, cap - len, "\\x%02x",
			                        c);
		else
			buf[len++] = (char)c;
	}
	buf[len++] = '"';
	buf[len] = '\0';
	return len;
}

static void put_secret(const char *name, const char *value)
{
	fuzz_write(name, value, strlen(value));
}

const char *fuzz_config_path(void)
{
	static char path[1024];

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "%s/smmd.yaml", fuzz_dir());
	return path;
}

const struct config *fuzz_config(void)
{
	struct config_errors errs = {0};
	char yaml[8192];
	const char *d = fuzz_dir();

	if (cfg != NULL)
		return cfg;
	put_secret("slack.url", "https://hooks.slack.com/services/T0/B0/XyZ\n");
	put_secret("discord.url",
	           "https://discord.com/api/webhooks/1/tok-en_123\n");
	put_secret("telegram.token", "123456:ABC-def_ghi\n");
	put_secret("mastodon.token", "masto-token-123\n");
	put_secret("linkedin.token", "AQX-linkedin-123\n");
	put_secret("vk.token", "vk1.a.vk-token-123\n");
	put_secret("meta.token", "EAAGmeta-token-123\n");
	put_secret("bluesky.pass", "abcd-efgh-ijkl-mnop\n");
	put_secret("auth", "Bearer sekrit\n");
	put_secret("x.token", "x-user-token-123\n");
	put_secret("threads.token", "THAAthreads-token-123\n");
	put_secret("whsec", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	snprintf(yaml, sizeof(yaml),
	         "state_dir: %s/state\n"
	         "socket: %s/smmd.sock\n"
	         "channels:\n"
	         "  demo:\n"
	         "    publisher: webhook\n"
	         "    url: http://127.0.0.1:9/hook\n"
	         "  shop:\n"
	         "    publisher: webhook\n"
	         "    url: http://127.0.0.1:9/shop\n"
	         "    secret_file: %s/whsec\n"
	         "  shop-x:\n"
	         "    publisher: webhook\n"
	         "    url: http://127.0.0.1:9/x\n"
	         "    max_length: 20\n"
	         "    media_dir: %s\n"
	         "  slack:\n"
	         "    publisher: slack\n"
	         "    url_file: %s/slack.url\n"
	         "  discord:\n"
	         "    publisher: discord\n"
	         "    url_file: %s/discord.url\n"
	         "  telegram:\n"
	         "    publisher: telegram\n"
	         "    token_file: %s/telegram.token\n"
	         "    chat_id: -100123\n"
	         "  mastodon:\n"
	         "    publisher: mastodon\n"
	         "    instance: https://mastodon.example\n"
	         "    token_file: %s/mastodon.token\n"
	         "  linkedin:\n"
	         "    publisher: linkedin\n"
	         "    author: urn:li:organization:5515715\n"
	         "    token_file: %s/linkedin.token\n"
	         "  vk:\n"
	         "    publisher: vk\n"
	         "    token_file: %s/vk.token\n"
	         "    group_id: 123456\n"
	         "  x:\n"
	         "    publisher: x\n"
	         "    token_file: %s/x.token\n"
	         "  threads:\n"
	         "    publisher: threads\n"
	         "    token_file: %s/threads.token\n"
	         "  template:\n"
	         "    publisher: template\n"
	         "    url: https://api.example/v2/posts\n"
	         "    header_files:\n"
	         "      Authorization: %s/auth\n"
	         "    idempotency_header: Idempotency-Key\n"
	         "    success_id: data.id\n"
	         "    success_url: data.links.0.href\n"
	         "    body: '{\"text\": {{text}}, \"media\": {{media}}}'\n"
	         "    engagement:\n"
	         "      url: https://api.example/v2/posts/{{remote_id}}\n"
	         "      likes: data.metrics.likes\n"
	         "      shares: data.metrics.0\n"
	         "      views: views\n"
	         "  facebook:\n"
	         "    publisher: facebook\n"
	         "    page_id: \"111\"\n"
	         "    token_file: %s/meta.token\n"
	         "    media_dir: %s\n"
	         "  instagram:\n"
	         "    publisher: instagram\n"
	         "    ig_user_id: \"17841\"\n"
	         "    token_file: %s/meta.token\n"
	         "  bluesky:\n"
	         "    publisher: bluesky\n"
	         "    handle: shop.bsky.social\n"
	         "    app_password_file: %s/bluesky.pass\n",
	         d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d, d);
	fuzz_write("smmd.yaml", yaml, strlen(yaml));
	if (config_load(fuzz_config_path(), &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.len; i++)
			fprintf(stderr, "fuzz: %s\n", errs.lines[i]);
		exit(1);
	}
	return cfg;
}
