/*
 * The calendar: each data/calendar/bad/NAME.yaml is loaded against
 * data/calendar/smmd.yaml and its diagnostics, minus the file name, must
 * equal bad/NAME.err line for line ("FILE" stands for the file where a
 * message names it again). Then the good files, folders of files, and the
 * expansion: recurrence across daylight saving changes, until, count and
 * exclude, variants, drafts, the horizon and the change hash. Expected
 * instants were computed with GNU date, e.g.
 * `date -u -d 'TZ="Europe/Madrid" 2026-10-26 10:00' +%s`.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "calendar.h"
#include "check_main.h"
#include "config.h"
#include "timeparse.h"
#include "text.h"

/*
 * The example as shipped must validate against this configuration: the
 * channels config/smmd.yaml is to get (see the file), then that file.
 */
#define EXAMPLE_CONFIG "config/smmd.yaml"

#define S(x)  (INT64_C(x) * 1000)
#define H     INT64_C(3600000)
#define DAY   (24 * H)
#define T_NOV S(1793491200) /* 2026-11-01T00:00:00Z */

static char top_dir[4096], data_dir[4200];

static void find_data(void)
{
	const char *top = getenv("SMM_TOP_SRCDIR");

	snprintf(top_dir, sizeof(top_dir), "%s", top ? top : "..");
	snprintf(data_dir, sizeof(data_dir), "%s/tests/unit/data/calendar",
	         top_dir);
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

static struct config *test_config(void)
{
	char path[4400];
	struct config_errors errs = {0};
	struct config *cfg = NULL;

	snprintf(path, sizeof(path), "%s/smmd.yaml", data_dir);
	ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
	return cfg;
}

/* A private folder for calendars written by a test. */
struct tmp {
	char dir[64];
};

static void tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/smmd-check-calendar-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
}

static void tmp_write(struct tmp *t, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void tmp_remove(struct tmp *t)
{
	struct dirent *de;
	char path[512];
	DIR *dp = opendir(t->dir);

	while (dp && (de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
		unlink(path);
	}
	if (dp)
		closedir(dp);
	rmdir(t->dir);
}

/* Load one calendar file with this text; 0 or -1 as calendar_load. */
static int load_text(const struct config *cfg, const char *yaml,
                     struct calendar **cal, struct config_errors *errs)
{
	struct tmp t;
	char path[128];
	int r;

	tmp_make(&t);
	tmp_write(&t, "calendar.yaml", yaml);
	snprintf(path, sizeof(path), "%s/calendar.yaml", t.dir);
	r = calendar_load(path, cfg, cal, errs);
	tmp_remove(&t);
	return r;
}

/* The same, for a calendar that must load. */
static struct calendar *must_load(const struct config *cfg, const char *yaml)
{
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	int r = load_text(cfg, yaml, &cal, &errs);

	ck_assert_msg(r == 0, "load failed: %s",
	              errs.len ? errs.lines[0] : "?");
	config_errors_clear(&errs);
	return cal;
}

/* The one error a calendar must fail with, minus its file name. */
static void must_fail(const struct config *cfg, const char *yaml,
                      const char *want)
{
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	const char *colon;

	ck_assert_int_eq(load_text(cfg, yaml, &cal, &errs), -1);
	ck_assert_ptr_null(cal);
	ck_assert_uint_eq(errs.len, 1);
	colon = strstr(errs.lines[0], ".yaml:");
	ck_assert_ptr_nonnull(colon);
	ck_assert_str_eq(colon + 6, want);
	config_errors_clear(&errs);
}

/* What calendar_expand handed over, copied. */
struct got {
	size_t n;
	struct item {
		char id[300], post_id[200], channel[130];
		int64_t due;
		char text[512], link[256], media[512], campaign[64];
		uint64_t hash;
	} v[4096];
};

static void collect(void *arg, const struct cal_delivery *d)
{
	struct got *g = arg;
	struct item *it;
	char *media;

	ck_assert_uint_lt(g->n, sizeof(g->v) / sizeof(g->v[0]));
	it = &g->v[g->n++];
	snprintf(it->id, sizeof(it->id), "%s", d->id);
	snprintf(it->post_id, sizeof(it->post_id), "%s", d->post_id);
	snprintf(it->channel, sizeof(it->channel), "%s", d->channel);
	it->due = d->due_ms;
	snprintf(it->text, sizeof(it->text), "%s", d->text);
	snprintf(it->link, sizeof(it->link), "%s", d->link ? d->link : "-");
	media = json_dumps(d->media, JSON_COMPACT);
	snprintf(it->media, sizeof(it->media), "%s", media);
	free(media);
	snprintf(it->campaign, sizeof(it->campaign), "%s",
	         d->campaign ? d->campaign : "-");
	it->hash = d->hash;
	ck_assert_ptr_eq(strchr(d->post_id, '/'), NULL);
}

static struct got *expand(const struct calendar *cal, int64_t from,
                          int64_t horizon)
{
	struct got *g = calloc(1, sizeof(*g));

	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(calendar_expand(cal, from, horizon, collect, g), 0);
	return g;
}

static const struct item *find(const struct got *g, const char *id)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->v[i].id, id) == 0)
			return &g->v[i];
	return NULL;
}

static const struct item *must_find(const struct got *g, const char *id)
{
	const struct item *it = find(g, id);

	ck_assert_msg(it != NULL, "no delivery '%s'", id);
	return it;
}

/* Replace every occurrence of from in s (in place; to is not longer). */
static void replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *p;

	while ((p = strstr(s, from)) != NULL) {
		memcpy(p, to, tl);
		memmove(p + tl, p + fl, strlen(p + fl) + 1);
	}
}

/* ---- diagnostics ------------------------------------------------------ */

/* Every bad/X.yaml yields exactly the lines of bad/X.err. */
START_TEST(test_bad_files)
{
	char dir[4400], path[4700], errpath[4700];
	struct config *cfg = test_config();
	struct dirent *de;
	DIR *dp;
	int checked = 0;

	snprintf(dir, sizeof(dir), "%s/bad", data_dir);
	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name), plen;
		struct config_errors errs = {0};
		struct calendar *cal = NULL;
		char *want, *got = NULL;
		size_t gotlen = 0;
		FILE *mem;

		if (n < 6 || strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(errpath, sizeof(errpath), "%s/%.*s.err", dir,
		         (int)(n - 5), de->d_name);
		ck_assert_msg(calendar_load(path, cfg, &cal, &errs) == -1,
		              "%s loaded", de->d_name);
		ck_assert_ptr_null(cal);
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
		replace_all(got, path, "FILE");
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
	ck_assert_int_ge(checked, 15);
	config_unref(cfg);
}
END_TEST

/* A duplicate id in another file of the folder names both places. */
START_TEST(test_dir_duplicate)
{
	char dir[4400], want[9000];
	struct config *cfg = test_config();
	struct config_errors errs = {0};
	struct calendar *cal = NULL;

	snprintf(dir, sizeof(dir), "%s/dup-dir", data_dir);
	ck_assert_int_eq(calendar_load(dir, cfg, &cal, &errs), -1);
	ck_assert_uint_eq(errs.len, 1);
	snprintf(want, sizeof(want),
	         "%s/20-brand-b.yaml:6:9: duplicate id 'hello' (first at "
	         "%s/10-brand-a.yaml:3:9)",
	         dir, dir);
	ck_assert_str_eq(errs.lines[0], want);
	config_errors_clear(&errs);
	config_unref(cfg);
}
END_TEST

/*
 * A folder: its *.yaml files in name order (dot files and others left
 * out); the zone and the campaigns may come from any of them.
 */
START_TEST(test_dir_zone)
{
	char dir[4400];
	struct config *cfg = test_config();
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	struct got *g;

	snprintf(dir, sizeof(dir), "%s/zone-dir", data_dir);
	ck_assert_int_eq(calendar_load(dir, cfg, &cal, &errs), 0);
	ck_assert_uint_eq(cal->nfiles, 3);
	ck_assert_ptr_nonnull(strstr(cal->files[0], "/10-posts.yaml"));
	ck_assert_ptr_nonnull(strstr(cal->files[2], "/30-campaigns.yaml"));
	ck_assert_str_eq(cal->timezone, "America/New_York");
	ck_assert_uint_eq(cal->ncampaigns, 1);
	g = expand(cal, T_NOV, T_NOV + 30 * DAY);
	ck_assert_uint_eq(g->n, 2);
	/* 09:00 EST on 2026-11-27 is 14:00Z. */
	ck_assert_int_eq(must_find(g, "first/demo")->due, S(1795788000));
	ck_assert_str_eq(must_find(g, "first/demo")->campaign, "fall");
	ck_assert_int_eq(must_find(g, "second/demo")->due, S(1795788000) + H);
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/*
 * One file per brand, brands in different zones: each file's local times
 * in its own zone, a post's own zone over its file's, and a file without
 * one in the first zone another file names (the calendar's).
 */
START_TEST(test_zone_per_file)
{
	struct config *cfg = test_config();
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	struct got *g;
	struct tmp t;

	tmp_make(&t);
	tmp_write(&t, "a.yaml",
	          "timezone: Europe/Madrid\nposts:\n  - id: madrid\n"
	          "    at: 2026-11-27 09:00\n    channels: [demo]\n"
	          "    text: hola\n");
	/* The zone after the posts: still the file's. */
	tmp_write(&t, "b.yaml",
	          "posts:\n  - id: ny\n    at: 2026-11-27 09:00\n"
	          "    channels: [demo]\n    text: hi\n"
	          "  - id: tokyo\n    at: 2026-11-27 09:00\n"
	          "    timezone: Asia/Tokyo\n    channels: [demo]\n"
	          "    text: konnichiwa\n"
	          "  - id: weekly\n    at: 2026-11-27 09:00\n"
	          "    rrule: FREQ=WEEKLY\n    count: 2\n"
	          "    channels: [demo]\n    text: every friday\n"
	          "timezone: America/New_York\n");
	tmp_write(&t, "c.yaml",
	          "posts:\n  - id: plain\n    at: 2026-11-27 09:00\n"
	          "    channels: [demo]\n    text: no zone here\n");
	ck_assert_msg(calendar_load(t.dir, cfg, &cal, &errs) == 0, "%s",
	              errs.len ? errs.lines[0] : "?");
	ck_assert_str_eq(cal->timezone, "Europe/Madrid");
	g = expand(cal, T_NOV, T_NOV + 60 * DAY);
	/* 09:00 in Madrid, New York, Tokyo; c.yaml in Madrid. */
	ck_assert_int_eq(must_find(g, "madrid/demo")->due, S(1795766400));
	ck_assert_int_eq(must_find(g, "ny/demo")->due, S(1795788000));
	ck_assert_int_eq(must_find(g, "tokyo/demo")->due, S(1795737600));
	ck_assert_int_eq(must_find(g, "plain/demo")->due, S(1795766400));
	/* A series repeats at 09:00 New York time: 14:00Z, a week on. */
	ck_assert_int_eq(must_find(g, "weekly@20261127T140000Z/demo")->due,
	                 S(1795788000));
	ck_assert_int_eq(must_find(g, "weekly@20261204T140000Z/demo")->due,
	                 S(1795788000) + 7 * DAY);
	free(g);
	calendar_free(cal);
	/* A post's zone is checked like a file's. */
	tmp_write(&t, "c.yaml",
	          "posts:\n  - id: plain\n    at: 2026-11-27 09:00\n"
	          "    timezone: Mars/Olympus\n"
	          "    channels: [demo]\n    text: no zone here\n");
	ck_assert_int_eq(calendar_load(t.dir, cfg, &cal, &errs), -1);
	ck_assert_uint_eq(errs.len, 1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0],
	                             "/c.yaml:4:15: unknown time zone "
	                             "'Mars/Olympus'"));
	config_errors_clear(&errs);
	tmp_remove(&t);
	config_unref(cfg);
}
END_TEST

START_TEST(test_dir_problems)
{
	struct config *cfg = test_config();
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	char want[256];
	struct tmp t;

	tmp_make(&t);
	/* A broken file does not stop the others being checked. */
	tmp_write(&t, "b.yaml",
	          "posts:\n  - id: x\n    at: [\n    text: oops\n");
	tmp_write(&t, "c.yaml",
	          "posts:\n  - id: y\n    at: 2026-11-27 09:00\n"
	          "    channels: [nowhere]\n    text: hi\n");
	ck_assert_int_eq(calendar_load(t.dir, cfg, &cal, &errs), -1);
	ck_assert_uint_eq(errs.len, 2);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], "/b.yaml:5:1: "));
	ck_assert_ptr_nonnull(strstr(errs.lines[1], "/c.yaml:4:16: unknown "
	                                            "channel 'nowhere'"));
	config_errors_clear(&errs);
	tmp_remove(&t);

	/* A folder without calendar files is an error, not an empty plan. */
	tmp_make(&t);
	tmp_write(&t, "notes.txt", "nothing\n");
	ck_assert_int_eq(calendar_load(t.dir, cfg, &cal, &errs), -1);
	snprintf(want, sizeof(want),
	         "%s:0:0: no calendar files (*.yaml) in this folder", t.dir);
	ck_assert_uint_eq(errs.len, 1);
	ck_assert_str_eq(errs.lines[0], want);
	config_errors_clear(&errs);
	tmp_remove(&t);

	ck_assert_int_eq(
	        calendar_load("/nonexistent/cal.yaml", cfg, &cal, &errs), -1);
	ck_assert_uint_eq(errs.len, 1);
	ck_assert_str_eq(errs.lines[0], "/nonexistent/cal.yaml:0:0: cannot "
	                                "open: No such file or directory");
	config_errors_clear(&errs);
	config_unref(cfg);
}
END_TEST

/* A thousand channels are not all listed in "unknown channel". */
START_TEST(test_known_channels_cut)
{
	struct config_errors errs = {0};
	struct config *cfg = NULL;
	struct calendar *cal = NULL;
	char *yaml = NULL, path[128];
	size_t len = 0;
	FILE *mem = open_memstream(&yaml, &len);
	struct tmp t;

	fprintf(mem, "state_dir: /tmp/x\nchannels:\n");
	for (int i = 0; i < 1000; i++)
		fprintf(mem,
		        "  c%04d: {publisher: webhook, url: "
		        "\"http://127.0.0.1/\"}\n",
		        i);
	fclose(mem);
	tmp_make(&t);
	tmp_write(&t, "smmd.yaml", yaml);
	free(yaml);
	snprintf(path, sizeof(path), "%s/smmd.yaml", t.dir);
	ck_assert_int_eq(config_load(path, &cfg, &errs), 0);
	tmp_remove(&t);
	ck_assert_int_eq(
	        load_text(cfg,
	                  "timezone: UTC\nposts:\n- id: a\n  at: 2026-11-27 "
	                  "09:00\n  channels: [c9999]\n  text: hi\n",
	                  &cal, &errs),
	        -1);
	ck_assert_uint_eq(errs.len, 1);
	ck_assert_ptr_nonnull(strstr(errs.lines[0],
	                             "unknown channel 'c9999' (known: c0000, "
	                             "c0001, "));
	ck_assert_ptr_nonnull(strstr(errs.lines[0], ", ... 1000 in all)"));
	ck_assert_uint_lt(strlen(errs.lines[0]), 600);
	config_errors_clear(&errs);
	config_unref(cfg);
}
END_TEST

/* A thousand errors are listed; the rest are counted. */
START_TEST(test_error_cap)
{
	struct config *cfg = test_config();
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	char *yaml = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&yaml, &len);

	fprintf(mem, "timezone: UTC\nposts:\n");
	for (int i = 0; i < 1200; i++)
		fprintf(mem, "- {id: p%d, at: 2026-11-27 09:00, text: hi}\n",
		        i);
	fclose(mem);
	ck_assert_int_eq(load_text(cfg, yaml, &cal, &errs), -1);
	free(yaml);
	ck_assert_uint_eq(errs.len, 1001);
	ck_assert_ptr_nonnull(strstr(errs.lines[0], ":3:3: post 'p0' has no "
	                                            "'channels'"));
	ck_assert_ptr_nonnull(strstr(errs.lines[1000],
	                             ":0:0: 200 more errors not listed (fix "
	                             "these first)"));
	config_errors_clear(&errs);
	config_unref(cfg);
}
END_TEST

START_TEST(test_aliases)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;

	cal = must_load(cfg, "timezone: UTC\n"
	                     "posts:\n"
	                     "- id: a\n"
	                     "  at: &nine 2026-11-27 09:00\n"
	                     "  channels: &both [demo, shop-fb]\n"
	                     "  text: &hi hello\n"
	                     "- id: b\n"
	                     "  at: *nine\n"
	                     "  channels: *both\n"
	                     "  text: *hi\n");
	g = expand(cal, T_NOV, T_NOV + DAY);
	ck_assert_uint_eq(g->n, 4);
	ck_assert_int_eq(must_find(g, "b/shop-fb")->due, S(1795770000));
	ck_assert_str_eq(must_find(g, "b/demo")->text, "hello");
	free(g);
	calendar_free(cal);
	/* Nested aliases that would expand to millions of nodes. */
	must_fail(cfg,
	          "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	          "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	          "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	          "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	          "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	          "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
	          "5:36: aliases expand to too much (more than 100000 nodes "
	          "plus 4 per node written)");
	config_unref(cfg);
}
END_TEST

/* The example as shipped: valid against the example configuration. */
START_TEST(test_example)
{
	char cfgpath[4400], calpath[4400];
	struct config_errors errs = {0};
	struct config *cfg = NULL;
	struct calendar *cal = NULL;
	struct got *g;
	int r;

	snprintf(cfgpath, sizeof(cfgpath), "%s/%s", top_dir, EXAMPLE_CONFIG);
	snprintf(calpath, sizeof(calpath), "%s/config/calendar.yaml", top_dir);
	ck_assert_int_eq(config_load(cfgpath, &cfg, &errs), 0);
	r = calendar_load(calpath, cfg, &cal, &errs);
	ck_assert_msg(r == 0, "%s", errs.len ? errs.lines[0] : "?");
	ck_assert_str_eq(cal->timezone, "Europe/Madrid");
	g = expand(cal, T_NOV, T_NOV + 30 * DAY);
	/* The launch: three channels, X and Instagram in their own words. */
	ck_assert_ptr_nonnull(must_find(g, "merino-launch/shop-x"));
	ck_assert_str_ne(must_find(g, "merino-launch/shop-x")->text,
	                 must_find(g, "merino-launch/shop-fb")->text);
	/* Weekly tips on Tuesdays at 10:00 in Madrid, the 10th left out. */
	ck_assert_ptr_nonnull(must_find(g, "knitting-tip@20261103T090000Z/"
	                                   "shop-fb"));
	ck_assert_ptr_null(find(g, "knitting-tip@20261110T090000Z/shop-fb"));
	ck_assert_ptr_nonnull(must_find(g, "knitting-tip@20261117T090000Z/"
	                                   "shop-in"));
	/* The draft is kept, never expanded. */
	ck_assert_ptr_null(find(g, "advent-knitalong/shop-fb"));
	/* Plan B: the scenario as the daemon keeps it. */
	{
		json_t *sc = json_object_get(cal->planb, "orders-down");

		ck_assert_ptr_nonnull(sc);
		ck_assert_str_eq(
		        json_string_value(json_object_get(sc, "severity")),
		        "high");
		ck_assert(json_is_true(
		        json_object_get(json_object_get(sc, "pause"), "all")));
		ck_assert_uint_eq(
		        json_array_size(json_object_get(sc, "channels")), 3);
		ck_assert_ptr_nonnull(json_object_get(
		        json_object_get(sc, "variants"), "shop-x"));
		ck_assert_str_eq(json_string_value(json_array_get(
		                         json_object_get(sc, "approvers"), 0)),
		                 "smm");
	}
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* ---- what a good file holds ------------------------------------------- */

START_TEST(test_good_full)
{
	char path[4400];
	struct config *cfg = test_config();
	struct config_errors errs = {0};
	struct calendar *cal = NULL;
	const struct cal_post *p;
	struct got *g;
	const struct item *it;

	snprintf(path, sizeof(path), "%s/good/full.yaml", data_dir);
	ck_assert_int_eq(calendar_load(path, cfg, &cal, &errs), 0);
	ck_assert_uint_eq(cal->nposts, 7);
	ck_assert_uint_eq(cal->ncampaigns, 2);
	ck_assert_str_eq(cal->campaigns[0].name, "launch");
	ck_assert_str_eq(json_string_value(json_object_get(
	                         cal->campaigns[0].meta, "utm_campaign")),
	                 "launch-2026");
	ck_assert_uint_eq(json_object_size(cal->campaigns[1].meta), 0);

	p = &cal->posts[0];
	ck_assert_str_eq(p->id, "launch");
	ck_assert_str_eq(p->file, path);
	ck_assert_uint_eq(p->line, 9);
	ck_assert_uint_eq(p->column, 5);
	ck_assert_int_eq(p->at_ms, S(1795766400)); /* 09:00 CET */
	ck_assert_ptr_null(p->rrule);
	ck_assert_uint_eq(p->nchannels, 3);
	ck_assert_str_eq(p->channels[2], "shop-in");
	ck_assert_str_eq(p->campaign, "launch");
	ck_assert_uint_eq(p->nvariants, 2);
	ck_assert(!p->draft);
	/* The same instant three ways. */
	ck_assert_int_eq(cal->posts[1].at_ms, S(1795766400));
	ck_assert_int_eq(cal->posts[2].at_ms, S(1795766400));

	p = &cal->posts[3];
	ck_assert_str_eq(p->rrule, "FREQ=WEEKLY;BYDAY=MO");
	ck_assert_int_eq(p->at_ms, S(1793610000)); /* 2026-11-02 10:00 CET */
	/* A date: to the end of that day, local. */
	ck_assert_int_eq(p->until_ms, S(1798498800) - 1);
	ck_assert_uint_eq(p->nexclude_dates, 1);
	ck_assert_str_eq(p->exclude_dates[0], "2026-11-09");
	ck_assert_uint_eq(p->nexclude, 2);
	ck_assert_int_eq(p->exclude_ms[0], S(1794819600));
	ck_assert_int_eq(p->exclude_ms[1], S(1795424400));
	/* No text of its own: its first channel's variant. */
	ck_assert_str_eq(p->text, "Tip, short.");
	ck_assert_uint_eq(cal->posts[4].count, 3);
	ck_assert_int_eq(cal->posts[5].until_ms, S(1793782800));
	ck_assert(cal->posts[6].draft);

	g = expand(cal, T_NOV, T_NOV + 60 * DAY);
	it = must_find(g, "launch/shop-x");
	ck_assert_str_eq(it->text, "Short, for X.");
	/* The campaign tags the variant link too. */
	ck_assert_str_eq(it->link,
	                 "https://x.example.net/l?utm_campaign=launch-2026"
	                 "&utm_source=social");
	ck_assert_str_eq(it->media, "[\"https://shop.example.net/a.jpg\"]");
	ck_assert_str_eq(it->post_id, "launch");
	ck_assert_str_eq(it->campaign, "launch");
	it = must_find(g, "launch/shop-in");
	ck_assert_str_eq(it->text, "Square, for Instagram.");
	ck_assert_str_eq(it->link,
	                 "https://shop.example.net/launch?utm_campaign="
	                 "launch-2026&utm_source=social");
	ck_assert_str_eq(it->media, "[\"launch-square.jpg\"]");
	it = must_find(g, "launch/shop-fb");
	ck_assert_str_eq(it->text, "The long launch text, for every network "
	                           "but X and Instagram.");
	ck_assert_str_eq(it->media, "[\"https://shop.example.net/a.jpg\"]");
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

START_TEST(test_text_length)
{
	ck_assert_uint_eq(text_chars("", strlen("")), 0);
	ck_assert_uint_eq(text_chars("hello", strlen("hello")), 5);
	ck_assert_uint_eq(text_chars("Ñandú", strlen("Ñandú")), 5);
	ck_assert_uint_eq(text_chars("日本語", strlen("日本語")), 3);
	ck_assert_uint_eq(
	        text_chars("\xF0\x9F\x90\x91", strlen("\xF0\x9F\x90\x91")), 1);
}
END_TEST

/* Without 'timezone', the system's zone ($TZ here). */
START_TEST(test_default_zone)
{
	struct config *cfg = test_config();
	struct calendar *cal;

	setenv("TZ", "America/New_York", 1);
	cal = must_load(cfg, "posts:\n- id: a\n  at: 2026-11-27 09:00\n"
	                     "  channels: [demo]\n  text: hi\n");
	ck_assert_str_eq(cal->timezone, "America/New_York");
	ck_assert_int_eq(cal->posts[0].at_ms, S(1795788000));
	calendar_free(cal);
	unsetenv("TZ");
	cal = must_load(cfg, "timezone: localtime\nposts: []\n");
	ck_assert_ptr_nonnull(cal->timezone);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* ---- recurrence ------------------------------------------------------- */

/* A weekly 10:00 post stays at 10:00 in Madrid across both changes. */
START_TEST(test_weekly_across_dst_madrid)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;

	cal = must_load(cfg, "timezone: Europe/Madrid\n"
	                     "posts:\n"
	                     "- id: tip\n"
	                     "  at: 2026-03-16 10:00\n"
	                     "  rrule: FREQ=WEEKLY;BYDAY=MO\n"
	                     "  channels: [demo]\n"
	                     "  text: Tip\n");
	/* Spring: 2026-03-29. 10:00 CET = 09:00Z, then CEST = 08:00Z. */
	g = expand(cal, S(1773619200), S(1773619200) + 21 * DAY);
	ck_assert_uint_eq(g->n, 3);
	ck_assert_str_eq(g->v[0].id, "tip@20260316T090000Z/demo");
	ck_assert_int_eq(g->v[0].due, S(1773651600));
	ck_assert_str_eq(g->v[1].id, "tip@20260323T090000Z/demo");
	ck_assert_str_eq(g->v[2].id, "tip@20260330T080000Z/demo");
	ck_assert_int_eq(g->v[2].due, S(1774857600));
	ck_assert_str_eq(g->v[2].post_id, "tip@20260330T080000Z");
	free(g);
	/* Autumn: 2026-10-25. CEST = 08:00Z, then CET = 09:00Z. */
	g = expand(cal, S(1792368000), S(1792368000) + 21 * DAY);
	ck_assert_uint_eq(g->n, 3);
	ck_assert_str_eq(g->v[0].id, "tip@20261019T080000Z/demo");
	ck_assert_str_eq(g->v[1].id, "tip@20261026T090000Z/demo");
	ck_assert_int_eq(g->v[1].due, S(1793005200));
	ck_assert_str_eq(g->v[2].id, "tip@20261102T090000Z/demo");
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* The same in New York, daily at 09:00, with its own dates. */
START_TEST(test_daily_across_dst_new_york)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;

	cal = must_load(cfg, "timezone: America/New_York\n"
	                     "posts:\n"
	                     "- id: morning\n"
	                     "  at: 2026-01-05 09:00\n"
	                     "  rrule: FREQ=DAILY\n"
	                     "  channels: [demo]\n"
	                     "  text: Good morning\n");
	/* 2026-03-07 00:00Z for three days: EST 14:00Z, then EDT 13:00Z. */
	g = expand(cal, S(1772841600), S(1772841600) + 3 * DAY);
	ck_assert_uint_eq(g->n, 3);
	ck_assert_str_eq(g->v[0].id, "morning@20260307T140000Z/demo");
	ck_assert_str_eq(g->v[1].id, "morning@20260308T130000Z/demo");
	ck_assert_str_eq(g->v[2].id, "morning@20260309T130000Z/demo");
	free(g);
	/* 2026-10-31 00:00Z for three days: EDT 13:00Z, then EST 14:00Z. */
	g = expand(cal, S(1793404800), S(1793404800) + 3 * DAY);
	ck_assert_uint_eq(g->n, 3);
	ck_assert_str_eq(g->v[0].id, "morning@20261031T130000Z/demo");
	ck_assert_str_eq(g->v[1].id, "morning@20261101T140000Z/demo");
	ck_assert_str_eq(g->v[2].id, "morning@20261102T140000Z/demo");
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* Occurrences in the gap and the overlap get calendar.h's answers. */
START_TEST(test_series_gap_overlap)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;

	cal = must_load(cfg, "timezone: Europe/Madrid\n"
	                     "posts:\n"
	                     "- id: night\n"
	                     "  at: 2026-03-27 02:30\n"
	                     "  rrule: FREQ=DAILY\n"
	                     "  channels: [demo]\n"
	                     "  text: Night owl\n"
	                     "- id: hourly\n"
	                     "  at: 2026-03-29 00:30\n"
	                     "  rrule: FREQ=HOURLY;COUNT=5\n"
	                     "  channels: [demo]\n"
	                     "  text: Every hour\n");
	g = expand(cal, S(1774569600), S(1774569600) + 4 * DAY);
	/* 02:30 on the 29th does not exist: 03:30 CEST, 01:30Z. */
	ck_assert_ptr_nonnull(must_find(g, "night@20260328T013000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "night@20260329T013000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "night@20260330T003000Z/demo"));
	/* 00:30, 01:30, (02:30 = 03:30), 03:30, 04:30: one 01:30Z only. */
	ck_assert_ptr_nonnull(must_find(g, "hourly@20260328T233000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "hourly@20260329T003000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "hourly@20260329T013000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "hourly@20260329T023000Z/demo"));
	for (size_t i = 0, n = 0; i < g->n; i++)
		if (strcmp(g->v[i].id, "hourly@20260329T013000Z/demo") == 0)
			ck_assert_uint_eq(++n, 1);
	free(g);
	calendar_free(cal);

	cal = must_load(cfg, "timezone: Europe/Madrid\n"
	                     "posts:\n"
	                     "- id: night\n"
	                     "  at: 2026-10-24 02:30\n"
	                     "  rrule: FREQ=DAILY;COUNT=3\n"
	                     "  channels: [demo]\n"
	                     "  text: Night owl\n");
	g = expand(cal, S(1792800000), S(1792800000) + 4 * DAY);
	ck_assert_uint_eq(g->n, 3);
	ck_assert_str_eq(g->v[0].id, "night@20261024T003000Z/demo");
	/* 02:30 twice on the 25th: the first, still CEST. */
	ck_assert_str_eq(g->v[1].id, "night@20261025T003000Z/demo");
	ck_assert_str_eq(g->v[2].id, "night@20261026T013000Z/demo");
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

START_TEST(test_until_count_exclude)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;

	cal = must_load(cfg, "timezone: Europe/Madrid\n"
	                     "posts:\n"
	                     "- id: until-date\n"
	                     "  at: 2026-11-02 09:00\n"
	                     "  rrule: FREQ=DAILY\n"
	                     "  until: 2026-11-06\n"
	                     "  channels: [demo]\n"
	                     "  text: a\n"
	                     "- id: until-time\n"
	                     "  at: 2026-11-02 09:00\n"
	                     "  rrule: FREQ=DAILY\n"
	                     "  until: 2026-11-04 09:00\n"
	                     "  channels: [demo]\n"
	                     "  text: b\n"
	                     "- id: counted\n"
	                     "  at: 2026-11-02 09:00\n"
	                     "  rrule: FREQ=DAILY\n"
	                     "  count: 3\n"
	                     "  channels: [demo]\n"
	                     "  text: c\n"
	                     "- id: excluded\n"
	                     "  at: 2026-11-02 09:00\n"
	                     "  rrule: FREQ=DAILY;COUNT=5\n"
	                     "  exclude: [2026-11-03, 2026-11-05 09:00]\n"
	                     "  channels: [demo]\n"
	                     "  text: d\n");
	g = expand(cal, T_NOV, T_NOV + 30 * DAY);
	ck_assert_ptr_nonnull(must_find(g, "until-date@20261106T080000Z/demo"));
	ck_assert_ptr_null(find(g, "until-date@20261107T080000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "until-time@20261104T080000Z/demo"));
	ck_assert_ptr_null(find(g, "until-time@20261105T080000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "counted@20261104T080000Z/demo"));
	ck_assert_ptr_null(find(g, "counted@20261105T080000Z/demo"));
	/* Excluded occurrences still count towards COUNT (RFC 5545). */
	ck_assert_ptr_nonnull(must_find(g, "excluded@20261102T080000Z/demo"));
	ck_assert_ptr_null(find(g, "excluded@20261103T080000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "excluded@20261104T080000Z/demo"));
	ck_assert_ptr_null(find(g, "excluded@20261105T080000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "excluded@20261106T080000Z/demo"));
	ck_assert_ptr_null(find(g, "excluded@20261107T080000Z/demo"));
	ck_assert_uint_eq(g->n, 5 + 3 + 3 + 3);
	free(g);
	/* COUNT counts from the first occurrence, wherever from is. */
	g = expand(cal, T_NOV + 3 * DAY + 12 * H, T_NOV + 30 * DAY);
	ck_assert_ptr_null(find(g, "counted@20261104T080000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "until-date@20261105T080000Z/demo"));
	ck_assert_ptr_null(find(g, "until-date@20261104T080000Z/demo"));
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* A campaign's utm_* metadata tags its posts' links; nothing else does. */
START_TEST(test_campaign_tags_links)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;
	const struct item *it, *plain;
	uint64_t before;

	cal = must_load(
	        cfg, "timezone: UTC\n"
	             "campaigns:\n"
	             "  bf: {utm_campaign: black friday, utm_source: social, "
	             "owner: ana}\n"
	             "posts:\n"
	             "- id: a\n"
	             "  at: 2026-11-27 09:00\n"
	             "  channels: [demo]\n"
	             "  text: Doors open\n"
	             "  link: https://shop.example.net/bf#top\n"
	             "  campaign: bf\n"
	             "- id: b\n"
	             "  at: 2026-11-27 09:00\n"
	             "  channels: [demo]\n"
	             "  text: Already tagged\n"
	             "  link: https://shop.example.net/?a=1&utm_source=mail\n"
	             "  campaign: bf\n"
	             "- id: c\n"
	             "  at: 2026-11-27 09:00\n"
	             "  channels: [demo]\n"
	             "  text: No campaign\n"
	             "  link: https://shop.example.net/plain\n"
	             "- id: d\n"
	             "  at: 2026-11-27 09:00\n"
	             "  channels: [demo]\n"
	             "  text: A look-alike parameter\n"
	             "  link: https://shop.example.net/?xutm_source=a\n"
	             "  campaign: bf\n");
	g = expand(cal, T_NOV, T_NOV + 30 * DAY);
	it = must_find(g, "a/demo");
	/* Encoded, in the query, before the fragment; not 'owner'. */
	ck_assert_str_eq(it->link, "https://shop.example.net/bf?utm_campaign="
	                           "black%20friday&utm_source=social#top");
	it = must_find(g, "b/demo");
	ck_assert_str_eq(it->link, "https://shop.example.net/?a=1&utm_source="
	                           "mail&utm_campaign=black%20friday");
	/* Only a whole parameter name counts as already set. */
	ck_assert_str_eq(must_find(g, "d/demo")->link,
	                 "https://shop.example.net/?xutm_source=a&utm_campaign="
	                 "black%20friday&utm_source=social");
	plain = must_find(g, "c/demo");
	ck_assert_str_eq(plain->link, "https://shop.example.net/plain");
	before = must_find(g, "a/demo")->hash;
	free(g);
	calendar_free(cal);

	/* A changed tag is a changed delivery: a reload updates it. */
	cal = must_load(cfg, "timezone: UTC\n"
	                     "campaigns:\n"
	                     "  bf: {utm_campaign: bf2026}\n"
	                     "posts:\n"
	                     "- id: a\n"
	                     "  at: 2026-11-27 09:00\n"
	                     "  channels: [demo]\n"
	                     "  text: Doors open\n"
	                     "  link: https://shop.example.net/bf#top\n"
	                     "  campaign: bf\n");
	g = expand(cal, T_NOV, T_NOV + 30 * DAY);
	ck_assert_uint_ne(must_find(g, "a/demo")->hash, before);
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* A campaign's cadence and min_gap: read, kept apart from its notes. */
START_TEST(test_campaign_cadence)
{
	struct config *cfg = test_config();
	struct calendar *cal;

	cal = must_load(cfg, "timezone: UTC\n"
	                     "campaigns:\n"
	                     "  bf: {utm_campaign: bf, cadence: 2/day}\n"
	                     "  tips:\n"
	                     "    min_gap: 36h\n"
	                     "    cadence: 3/week\n"
	                     "  plain: {owner: ana}\n"
	                     "posts: []\n");
	ck_assert_uint_eq(cal->ncampaigns, 3);
	ck_assert_uint_eq(cal->campaigns[0].cadence.n, 2);
	ck_assert_int_eq(cal->campaigns[0].cadence.unit, CADENCE_DAY);
	ck_assert_ptr_null(json_object_get(cal->campaigns[0].meta, "cadence"));
	ck_assert_uint_eq(json_object_size(cal->campaigns[0].meta), 1);
	ck_assert_uint_eq(cal->campaigns[0].line, 3);
	ck_assert_uint_eq(cal->campaigns[0].column, 35);
	/* Its place is the cadence's, even after min_gap. */
	ck_assert_uint_eq(cal->campaigns[1].cadence.n, 3);
	ck_assert_int_eq(cal->campaigns[1].cadence.min_gap_ms,
	                 36 * 3600 * 1000);
	ck_assert_uint_eq(cal->campaigns[1].line, 6);
	ck_assert_uint_eq(cal->campaigns[1].column, 14);
	ck_assert_ptr_nonnull(strstr(cal->campaigns[1].file, "calendar.yaml"));
	ck_assert_uint_eq(cal->campaigns[2].cadence.n, 0);
	ck_assert_uint_eq(cal->campaigns[2].line, 0);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* A campaign's days off: kept apart from its notes, each checked. */
START_TEST(test_campaign_blackouts)
{
	struct config *cfg = test_config();
	struct calendar *cal;

	cal = must_load(cfg, "timezone: UTC\n"
	                     "campaigns:\n"
	                     "  bf:\n"
	                     "    utm_campaign: bf\n"
	                     "    blackouts: [\"2026-11-27\", "
	                     "\"2026-12-24..2026-12-26\"]\n"
	                     "    quiet: Sun\n"
	                     "    blackout_action: hold\n"
	                     "  tips: {owner: ana}\n"
	                     "posts: []\n");
	ck_assert_uint_eq(cal->ncampaigns, 2);
	ck_assert_ptr_nonnull(cal->campaigns[0].blackouts);
	ck_assert_uint_eq(cal->campaigns[0].blackouts->n, 3);
	ck_assert_int_eq(cal->campaigns[0].blackouts->action, BLACKOUT_HOLD);
	ck_assert_int_eq(cal->campaigns[0].blackouts->v[2].kind, BO_WEEKLY);
	ck_assert_uint_eq(json_object_size(cal->campaigns[0].meta), 1);
	ck_assert_ptr_null(cal->campaigns[1].blackouts);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

START_TEST(test_variants_and_drafts)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;
	const struct item *it;

	cal = must_load(cfg,
	                "timezone: UTC\n"
	                "posts:\n"
	                "- id: p\n"
	                "  at: 2026-11-27 09:00\n"
	                "  channels: [demo, shop-x, shop-in]\n"
	                "  text: The whole story, at length.\n"
	                "  link: https://example.net/long\n"
	                "  media: [https://example.net/1.png]\n"
	                "  variants:\n"
	                "    shop-x: {text: Short one}\n"
	                "    shop-in:\n"
	                "      link: https://example.net/in\n"
	                "      media: [in.png, https://example.net/2.png]\n"
	                "- id: d\n"
	                "  at: 2026-11-27 09:00\n"
	                "  rrule: FREQ=DAILY\n"
	                "  channels: [demo]\n"
	                "  text: A draft\n"
	                "  draft: true\n"
	                "- id: d2\n"
	                "  at: 2026-11-27 09:00\n"
	                "  channels: [demo]\n"
	                "  text: Another draft\n"
	                "  draft: yes\n");
	g = expand(cal, T_NOV, T_NOV + 30 * DAY);
	ck_assert_uint_eq(g->n, 3);
	it = must_find(g, "p/demo");
	ck_assert_str_eq(it->text, "The whole story, at length.");
	ck_assert_str_eq(it->link, "https://example.net/long");
	ck_assert_str_eq(it->media, "[\"https://example.net/1.png\"]");
	it = must_find(g, "p/shop-x");
	ck_assert_str_eq(it->text, "Short one");
	ck_assert_str_eq(it->link, "https://example.net/long");
	it = must_find(g, "p/shop-in");
	ck_assert_str_eq(it->text, "The whole story, at length.");
	ck_assert_str_eq(it->link, "https://example.net/in");
	ck_assert_str_eq(it->media,
	                 "[\"in.png\",\"https://example.net/2.png\"]");
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* Only [from, horizon); never more than the cap; old series start late. */
START_TEST(test_horizon)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	struct got *g;

	cal = must_load(cfg, "timezone: UTC\n"
	                     "posts:\n"
	                     "- id: daily\n"
	                     "  at: 2020-01-01 09:00\n"
	                     "  rrule: FREQ=DAILY\n"
	                     "  channels: [demo]\n"
	                     "  text: Every day since 2020\n"
	                     "- id: every5h\n"
	                     "  at: 2020-01-01 00:00\n"
	                     "  rrule: FREQ=HOURLY;INTERVAL=5\n"
	                     "  channels: [shop-fb]\n"
	                     "  text: Every five hours since 2020\n"
	                     "- id: counted5h\n"
	                     "  at: 2020-01-01 00:00\n"
	                     "  rrule: FREQ=HOURLY;INTERVAL=5\n"
	                     "  count: 100000\n"
	                     "  channels: [shop-fb]\n"
	                     "  text: The same, counted\n");
	/* From 09:00 exactly (in) to the 4th 09:00 (out). */
	g = expand(cal, T_NOV + 9 * H, T_NOV + 3 * DAY + 9 * H);
	ck_assert_ptr_nonnull(must_find(g, "daily@20261101T090000Z/demo"));
	ck_assert_ptr_nonnull(must_find(g, "daily@20261103T090000Z/demo"));
	ck_assert_ptr_null(find(g, "daily@20261104T090000Z/demo"));
	/*
	 * 2026-11-01T00:00Z is 59,904 hours after 2020-01-01T00:00Z, 4 more
	 * than a multiple of 5: the series runs at 01:00, 06:00, 11:00...
	 * and must keep that phase when its start is moved near from.
	 */
	ck_assert_ptr_null(find(g, "every5h@20261101T060000Z/shop-fb"));
	ck_assert_ptr_nonnull(must_find(g, "every5h@20261101T110000Z/shop-fb"));
	ck_assert_ptr_nonnull(must_find(g, "every5h@20261101T160000Z/shop-fb"));
	ck_assert_ptr_nonnull(must_find(g, "every5h@20261104T040000Z/shop-fb"));
	/* COUNT iterates from 2020 itself: the same instants. */
	for (size_t i = 0; i < g->n; i++) {
		char id[300];

		if (strncmp(g->v[i].id, "every5h@", 8) != 0)
			continue;
		snprintf(id, sizeof(id), "counted5h%s", g->v[i].id + 7);
		ck_assert_ptr_nonnull(must_find(g, id));
	}
	ck_assert_uint_eq(g->n, 3 + 14 + 14);
	free(g);
	calendar_free(cal);

	config_unref(cfg);
}
END_TEST

static void count_only(void *arg, const struct cal_delivery *d)
{
	(*(size_t *)arg)++;
	(void)d;
}

/* Every minute of the hour. */
#define MINUTES                                                              \
	"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,"  \
	"25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46," \
	"47,48,49,50,51,52,53,54,55,56,57,58,59"

START_TEST(test_occurrence_cap)
{
	struct config *cfg = test_config();
	struct calendar *cal;
	size_t n = 0;

	cal = must_load(cfg, "timezone: UTC\n"
	                     "posts:\n"
	                     "- id: flood\n"
	                     "  at: 2026-11-01 00:00\n"
	                     "  rrule: FREQ=HOURLY;BYMINUTE=" MINUTES "\n"
	                     "  channels: [demo]\n"
	                     "  text: Too often\n");
	/* 14 days of minutes is 20,160: capped at 10,000 a call. */
	ck_assert_int_eq(
	        calendar_expand(cal, T_NOV, T_NOV + 14 * DAY, count_only, &n),
	        0);
	ck_assert_uint_eq(n, 10000);
	calendar_free(cal);

	config_unref(cfg);
}
END_TEST

/*
 * A rule that never matches is refused at load: February 30 before any
 * search, February 29 on a Monday (2044) after one bounded to ten
 * years. Unbounded, libical steps hour by hour to the year 2582 (five
 * million steps, 20 s: past this case's timeout).
 * One that matches rarely loads, and its expansion is bounded by the
 * horizon, not by its next match.
 */
START_TEST(test_never_matches)
{
	/* The first two are refused before libical searches; the rest
	 * after a search of ten years (Feb 29 on a Monday: 2044). */
	static const char *const rules[] = {
	        "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",
	        "FREQ=MONTHLY;BYMONTH=2,4;BYMONTHDAY=31,-31",
	        "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
	        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=3",
	};
	struct config *cfg = test_config();
	struct calendar *cal;
	char yaml[512], want[256];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(rules) / sizeof(*rules); i++) {
		snprintf(yaml, sizeof(yaml),
		         "timezone: Europe/Madrid\n"
		         "posts:\n"
		         "- id: never\n"
		         "  at: 2026-03-29 01:50\n"
		         "  rrule: %s\n"
		         "  channels: [demo]\n"
		         "  text: Never\n",
		         rules[i]);
		snprintf(want, sizeof(want), "5:10: invalid rrule '%s': %s",
		         rules[i],
		         i < 2 ? "no month BYMONTH allows has a day "
		                 "BYMONTHDAY names (such as February 30)"
		               : "it has no occurrence within ten years of "
		                 "'at'");
		must_fail(cfg, yaml, want);
	}
	/* Leap days: the next is 2028-02-29, 24 times. */
	cal = must_load(cfg, "timezone: Europe/Madrid\n"
	                     "posts:\n"
	                     "- id: leap\n"
	                     "  at: 2026-03-29 01:00\n"
	                     "  rrule: FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=29\n"
	                     "  channels: [demo]\n"
	                     "  text: Leap\n");
	ck_assert_int_eq(
	        calendar_expand(cal, T_NOV, T_NOV + 14 * DAY, count_only, &n),
	        0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(calendar_expand(cal, S(1835391600), S(1835478000),
	                                 count_only, &n),
	                 0);
	ck_assert_uint_eq(n, 24);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

/* The hash moves with what the post says and when, and nothing else. */
START_TEST(test_hash)
{
	static const char *const base =
	        "timezone: UTC\n"
	        "campaigns: {c: {utm_campaign: c}, d: {utm_campaign: d}}\n"
	        "posts:\n"
	        "- id: p\n"
	        "  at: %s\n"
	        "  channels: [demo, shop-fb]\n"
	        "  text: %s\n"
	        "  link: %s\n"
	        "  media: [%s]\n"
	        "  campaign: %s\n"
	        "- id: q\n"
	        "  at: 2026-11-27 10:00\n"
	        "  channels: [demo]\n"
	        "  text: %s\n";
	static const char *const edits[][6] = {
	        {"2026-11-27 09:00", "hello", "https://a/", "https://m/1", "c",
	         "other"},
	        /* Only the other post changes: p's hashes stay. */
	        {"2026-11-27 09:00", "hello", "https://a/", "https://m/1", "c",
	         "changed"},
	        {"2026-11-27 09:01", "hello", "https://a/", "https://m/1", "c",
	         "other"},
	        {"2026-11-27 09:00", "hello!", "https://a/", "https://m/1", "c",
	         "other"},
	        {"2026-11-27 09:00", "hello", "https://b/", "https://m/1", "c",
	         "other"},
	        {"2026-11-27 09:00", "hello", "https://a/", "https://m/2", "c",
	         "other"},
	        {"2026-11-27 09:00", "hello", "https://a/", "https://m/1", "d",
	         "other"},
	};
	struct config *cfg = test_config();
	uint64_t first[2] = {0, 0};

	for (size_t e = 0; e < sizeof(edits) / sizeof(edits[0]); e++) {
		char yaml[1024];
		struct calendar *cal;
		struct got *g;
		uint64_t h[2];

		snprintf(yaml, sizeof(yaml), base, edits[e][0], edits[e][1],
		         edits[e][2], edits[e][3], edits[e][4], edits[e][5]);
		cal = must_load(cfg, yaml);
		g = expand(cal, T_NOV, T_NOV + 30 * DAY);
		h[0] = must_find(g, "p/demo")->hash;
		h[1] = must_find(g, "p/shop-fb")->hash;
		/* Two channels, two deliveries, two hashes. */
		ck_assert(h[0] != h[1]);
		if (e == 0) {
			/* Loaded again: the very same hashes. */
			struct calendar *again = must_load(cfg, yaml);
			struct got *g2 = expand(again, T_NOV, T_NOV + 30 * DAY);

			ck_assert(must_find(g2, "p/demo")->hash == h[0]);
			free(g2);
			calendar_free(again);
			first[0] = h[0];
			first[1] = h[1];
		} else if (e == 1) {
			ck_assert(h[0] == first[0] && h[1] == first[1]);
		} else {
			ck_assert_msg(h[0] != first[0] && h[1] != first[1],
			              "edit %zu kept the hash", e);
		}
		free(g);
		calendar_free(cal);
	}
	config_unref(cfg);
}
END_TEST

/*
 * The sync stores each delivery's hash: a new value would make every
 * calendar delivery look changed once after an upgrade. These values come
 * from the hash as first written; the code must keep giving them.
 */
START_TEST(test_hash_stored_values)
{
	static const char *const yaml =
	        "timezone: UTC\n"
	        "campaigns: {c: {utm_campaign: spring}}\n"
	        "posts:\n"
	        "- id: p\n"
	        "  at: 2026-11-27 09:00\n"
	        "  channels: [demo, shop-fb]\n"
	        "  text: hello\n"
	        "  link: https://a/x?y=1\n"
	        "  media: [https://m/1, https://m/2]\n"
	        "  campaign: c\n"
	        "- id: q\n"
	        "  at: 2026-11-27 10:00\n"
	        "  channels: [demo]\n"
	        "  text: \"caf\xc3\xa9 \xf0\x9f\x8e\x89\"\n";
	static const struct {
		const char *id;
		uint64_t hash;
	} want[] = {
	        {"p/demo", UINT64_C(0x18382193af75b61a)},
	        {"p/shop-fb", UINT64_C(0xccd991795c106814)},
	        {"q/demo", UINT64_C(0xe1c7c868ad1c38ea)},
	};
	struct config *cfg = test_config();
	struct calendar *cal = must_load(cfg, yaml);
	struct got *g = expand(cal, T_NOV, T_NOV + 30 * DAY);

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t h = must_find(g, want[i].id)->hash;

		ck_assert_msg(h == want[i].hash, "%s: hash %#llx", want[i].id,
		              (unsigned long long)h);
	}
	free(g);
	calendar_free(cal);
	config_unref(cfg);
}
END_TEST

static Suite *calendar_suite(void)
{
	Suite *s = suite_create("calendar");
	TCase *load = tcase_create("load"), *exp = tcase_create("expand"),
	      *bounded = tcase_create("bounded");

	find_data();
	tcase_add_test(load, test_bad_files);
	tcase_add_test(load, test_dir_duplicate);
	tcase_add_test(load, test_dir_zone);
	tcase_add_test(load, test_dir_problems);
	tcase_add_test(load, test_zone_per_file);
	tcase_add_test(load, test_known_channels_cut);
	tcase_add_test(load, test_error_cap);
	tcase_add_test(load, test_aliases);
	tcase_add_test(load, test_example);
	tcase_add_test(load, test_good_full);
	tcase_add_test(load, test_text_length);
	tcase_add_test(load, test_default_zone);
	tcase_add_test(exp, test_weekly_across_dst_madrid);
	tcase_add_test(exp, test_daily_across_dst_new_york);
	tcase_add_test(exp, test_series_gap_overlap);
	tcase_add_test(exp, test_until_count_exclude);
	tcase_add_test(exp, test_variants_and_drafts);
	tcase_add_test(exp, test_campaign_tags_links);
	tcase_add_test(load, test_campaign_cadence);
	tcase_add_test(load, test_campaign_blackouts);
	tcase_add_test(exp, test_horizon);
	tcase_add_test(exp, test_occurrence_cap);
	tcase_add_test(bounded, test_never_matches);
	tcase_add_test(exp, test_hash);
	tcase_add_test(exp, test_hash_stored_values);
	suite_add_tcase(s, load);
	suite_add_tcase(s, exp);
	/* Each test here ran for seconds to minutes before its fix. */
	tcase_set_timeout(bounded, 10);
	suite_add_tcase(s, bounded);
	return s;
}

SMM_CHECK_MAIN(calendar_suite)
