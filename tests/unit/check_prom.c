/*
 * Unit tests for daemon/prom.c's counters: what events and fetches count,
 * for which channels, and what a reload keeps.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "config.h"
#include "events.h"
#include "prom.h"
#include "promtext.h"
#include "smmd.h"

/* A configuration of just these channels' names: all prom reads. */
static struct config *config_of(const char *a, const char *b)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	cfg->channels = calloc(2, sizeof(struct channel));
	cfg->channels[0].name = (char *)a;
	cfg->channels[1].name = (char *)b;
	cfg->nchannels = b ? 2 : 1;
	return cfg;
}

static void config_drop(struct config *cfg)
{
	free(cfg->channels);
	free(cfg);
}

/* The counter families as a scrape shows them (freed by the caller). */
static char *counters(const struct prom *p)
{
	struct promtext pt;
	size_t len;
	char *s;

	promtext_init(&pt);
	prom_write_counters(p, &pt);
	s = promtext_steal(&pt, &len);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void has(const char *page, const char *line)
{
	if (strstr(page, line) == NULL)
		ck_abort_msg("no '%s' in:\n%s", line, page);
}

static void lacks(const char *page, const char *text)
{
	if (strstr(page, text) != NULL)
		ck_abort_msg("'%s' should not be in:\n%s", text, page);
}

static void event(struct prom *p, enum event_kind kind, const char *id)
{
	prom_event(p, &(struct delivery_event){.kind = kind, .id = id});
}

START_TEST(test_fetches)
{
	struct config *cfg = config_of("demo", "shop");
	struct smmd d = {.prom = prom_new(cfg)};
	char *s;

	ck_assert_ptr_nonnull(d.prom);
	/* No fetch yet: the family is there, no series. */
	s = counters(d.prom);
	has(s, "# HELP smmd_engagement_fetches_total ");
	has(s, "# TYPE smmd_engagement_fetches_total counter\n");
	lacks(s, "smmd_engagement_fetches_total{");
	free(s);
	prom_count_fetch(&d, "demo", "ok");
	prom_count_fetch(&d, "demo", "ok");
	prom_count_fetch(&d, "demo", "rate_limited");
	prom_count_fetch(&d, "shop", "revoked");
	prom_count_fetch(&d, "shop", "error");
	/* Not counted: an unknown channel or outcome, or none. */
	prom_count_fetch(&d, "gone", "ok");
	prom_count_fetch(&d, "demo", "weird");
	prom_count_fetch(&d, NULL, "ok");
	prom_count_fetch(&d, "demo", NULL);
	s = counters(d.prom);
	has(s, "smmd_engagement_fetches_total{channel=\"demo\",outcome=\"ok\"} "
	       "2\n");
	has(s, "smmd_engagement_fetches_total{channel=\"demo\","
	       "outcome=\"rate_limited\"} 1\n");
	has(s, "smmd_engagement_fetches_total{channel=\"shop\","
	       "outcome=\"revoked\"} 1\n");
	has(s, "smmd_engagement_fetches_total{channel=\"shop\","
	       "outcome=\"error\"} 1\n");
	lacks(s, "outcome=\"weird\"");
	lacks(s, "channel=\"gone\"");
	lacks(s, "smmd_engagement_fetches_total{channel=\"demo\","
	         "outcome=\"error\"}");
	free(s);
	prom_free(d.prom);
	config_drop(cfg);
}
END_TEST

START_TEST(test_no_prom)
{
	struct smmd d = {0};

	/* Before prom_new, or out of memory: counting is a no-op. */
	prom_count_fetch(&d, "demo", "ok");
	prom_lateness(NULL, 0);
}
END_TEST

START_TEST(test_deliveries)
{
	struct config *cfg = config_of("demo", "shop");
	struct prom *p = prom_new(cfg);
	char *s;

	event(p, EV_PUBLISHED, "p1/demo");
	event(p, EV_PUBLISHED, "p2/demo");
	event(p, EV_FAILED, "p3/shop");
	event(p, EV_RETRY, "p4/shop");
	event(p, EV_RETRY, "p4/shop");
	event(p, EV_CANCELLED, "p5/demo");
	event(p, EV_MISSED, "p6/demo");
	event(p, EV_SKIPPED, "p7/demo");
	event(p, EV_UNKNOWN, "p8/shop");
	/* Not outcomes: not counted. */
	event(p, EV_STARTED, "p1/demo");
	event(p, EV_QUEUED, "p9/demo");
	event(p, EV_HELD, "p9/demo");
	/* A channel that is not configured. */
	event(p, EV_PUBLISHED, "p1/gone");
	s = counters(p);
	has(s, "# TYPE smmd_deliveries_total counter\n");
	has(s, "smmd_deliveries_total{channel=\"demo\",outcome=\"published\"} "
	       "2\n");
	has(s, "smmd_deliveries_total{channel=\"shop\",outcome=\"failed\"} "
	       "1\n");
	has(s, "smmd_deliveries_total{channel=\"shop\",outcome=\"unknown\"} "
	       "1\n");
	has(s, "smmd_deliveries_total{channel=\"demo\",outcome=\"cancelled\"} "
	       "1\n");
	has(s, "smmd_deliveries_total{channel=\"demo\",outcome=\"missed\"} "
	       "1\n");
	has(s, "smmd_deliveries_total{channel=\"demo\",outcome=\"skipped\"} "
	       "1\n");
	/* Every configured channel and outcome has a series, zero or not. */
	has(s, "smmd_deliveries_total{channel=\"shop\",outcome=\"published\"} "
	       "0\n");
	has(s, "smmd_retries_total{channel=\"shop\"} 2\n");
	has(s, "smmd_retries_total{channel=\"demo\"} 0\n");
	lacks(s, "gone");
	free(s);
	prom_free(p);
	config_drop(cfg);
}
END_TEST

START_TEST(test_reload_keeps_and_drops)
{
	struct config *cfg = config_of("demo", "shop");
	struct config *next = config_of("new", "demo");
	struct smmd d = {.prom = prom_new(cfg)};
	char *s;

	event(d.prom, EV_PUBLISHED, "p1/demo");
	event(d.prom, EV_PUBLISHED, "p1/shop");
	prom_count_fetch(&d, "demo", "ok");
	ck_assert_int_eq(prom_channels(d.prom, next), 0);
	/* demo kept its counts, shop is gone, new starts at zero. */
	event(d.prom, EV_PUBLISHED, "p2/demo");
	event(d.prom, EV_FAILED, "p2/new");
	event(d.prom, EV_PUBLISHED, "p2/shop");
	s = counters(d.prom);
	has(s, "smmd_deliveries_total{channel=\"demo\",outcome=\"published\"} "
	       "2\n");
	has(s, "smmd_deliveries_total{channel=\"new\",outcome=\"failed\"} 1\n");
	has(s, "smmd_engagement_fetches_total{channel=\"demo\",outcome=\"ok\"} "
	       "1\n");
	lacks(s, "shop");
	/* In the new configuration's order. */
	ck_assert(strstr(s, "channel=\"new\"") < strstr(s, "channel=\"demo\""));
	free(s);
	prom_free(d.prom);
	config_drop(cfg);
	config_drop(next);
}
END_TEST

START_TEST(test_histograms_always_there)
{
	struct config *cfg = config_of("demo", NULL);
	struct prom *p = prom_new(cfg);
	char *s;

	prom_store_durable(p, 300000);   /* 0.3 ms */
	prom_store_durable(p, 20000000); /* 20 ms */
	/* Meant to leave at the epoch: as late as it gets. */
	prom_lateness(p, 0);
	s = counters(p);
	has(s, "# TYPE smmd_delivery_lateness_seconds histogram\n");
	has(s, "smmd_delivery_lateness_seconds_bucket{le=\"0.0005\"} 0\n");
	has(s, "smmd_delivery_lateness_seconds_bucket{le=\"300\"} 0\n");
	has(s, "smmd_delivery_lateness_seconds_bucket{le=\"+Inf\"} 1\n");
	has(s, "smmd_delivery_lateness_seconds_count 1\n");
	has(s, "# TYPE smmd_store_commit_seconds histogram\n");
	has(s, "smmd_store_commit_seconds_bucket{le=\"0.00025\"} 0\n");
	has(s, "smmd_store_commit_seconds_bucket{le=\"0.0005\"} 1\n");
	has(s, "smmd_store_commit_seconds_bucket{le=\"0.025\"} 2\n");
	/* 0.0003 + 0.02 in binary floating point: 0.020300000000000002. */
	has(s, "smmd_store_commit_seconds_sum 0.0203");
	has(s, "smmd_store_commit_seconds_count 2\n");
	free(s);
	prom_free(p);
	config_drop(cfg);
}
END_TEST

static Suite *prom_suite(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fetches);
	tcase_add_test(tc, test_no_prom);
	tcase_add_test(tc, test_deliveries);
	tcase_add_test(tc, test_reload_keeps_and_drops);
	tcase_add_test(tc, test_histograms_always_there);
	suite_add_tcase(s, tc);
	return s;
}

SMM_CHECK_MAIN(prom_suite)
