/*
 * What the Check tests against a real PostgreSQL share (check_pgconn,
 * check_lease): they run under tests/pg/with-pg.sh, which exports PGHOST,
 * PGPORT, PGUSER, PGDATABASE, SMM_PG_DIR and SMM_PG_CLUSTER; without them
 * they are skipped (77).
 */
#ifndef SMM_PG_CHECK_H
#define SMM_PG_CHECK_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "check_main.h"

static void pg_check_tick(uv_timer_t *tm)
{
	(void)tm;
}

/* Run loop until *flag >= want, at most ms; fails the test past that. */
static inline void pg_run_until(uv_loop_t *loop, const int *flag, int want,
                                int ms, const char *why)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;
	uv_timer_t tm;

	/* A tick, so that no turn waits past the deadline. */
	uv_timer_init(loop, &tm);
	uv_timer_start(&tm, pg_check_tick, 20, 20);
	while (*flag < want && uv_hrtime() < end)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(loop, UV_RUN_NOWAIT); /* the close, before tm goes */
	ck_assert_msg(*flag >= want, "waited %d ms: %d of %d (%s)", ms, *flag,
	              want, why ? why : "");
}

/* Run the loop for ms whatever happens. */
static inline void pg_run_for(uv_loop_t *loop, int ms)
{
	uint64_t end = uv_hrtime() + (uint64_t)ms * 1000000;
	uv_timer_t tm;

	uv_timer_init(loop, &tm);
	uv_timer_start(&tm, pg_check_tick, 20, 20);
	while (uv_hrtime() < end)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tm, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/*
 * One statement through psql, from the test process (which may block;
 * smmd never does): its first output line in out. 0 when psql succeeded.
 */
static inline int pg_psql(const char *sql, char *out, size_t len)
{
	char cmd[2048];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "psql -X -Atqc \"%s\" 2>&1", sql);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (out && len) {
		out[0] = '\0';
		if (fgets(out, (int)len, p))
			out[strcspn(out, "\n")] = '\0';
	}
	while (fgetc(p) != EOF)
		;
	st = pclose(p);
	return st == 0 ? 0 : -1;
}

/* tests/pg/cluster.sh ACTION SMM_PG_DIR [ARG]: restart, stop, start... */
static inline void pg_cluster(const char *action, const char *arg)
{
	char cmd[1024];
	const char *dir = getenv("SMM_PG_DIR");
	const char *tool = getenv("SMM_PG_CLUSTER");

	ck_assert_msg(dir && tool, "SMM_PG_DIR and SMM_PG_CLUSTER unset");
	snprintf(cmd, sizeof(cmd), "sh '%s' %s '%s' %s >/dev/null 2>&1", tool,
	         action, dir, arg ? arg : "");
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
}

/* main(): skipped without a cluster to talk to. */
#define SMM_PG_CHECK_MAIN(make_suite)                                       \
	int main(void)                                                      \
	{                                                                   \
		if (getenv("PGHOST") == NULL) {                             \
			fprintf(stderr, "no PostgreSQL (run through "       \
			                "tests/pg/with-pg.sh): skipped\n"); \
			return 77;                                          \
		}                                                           \
		return check_main_run(make_suite());                        \
	}

#endif
