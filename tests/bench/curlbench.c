/*
 * What libcurl alone can do on this machine: N POSTs shaped like smmd's
 * webhook requests (same body size and headers), K at a time over
 * keep-alive connections, through one multi handle, with nothing else
 * (no store, no scheduler, no event loop of ours). smmd must publish
 * through libcurl's multi interface, so this is the ceiling of its burst
 * rate; the bench prints it beside the sink's rate under wrk.
 *
 *   curlbench URL [URL...] [N [K]]   (defaults: 20000 requests, 256 at a
 *                                     time)
 *
 * With several URLs the requests go to them in turn (round robin), as a
 * burst over that many channels does, K at a time overall. The first
 * argument that is a number is N, the second K.
 *
 * Prints "curlbench: N requests in S s = R/s, F failed, to U URLs, cpu C
 * s", C the CPU time it used meanwhile (user and system): what libcurl
 * alone costs a request, for the bench's CPU budget.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchclock.h"

static const char body[] =
        "{\"id\":\"b-1234\",\"channel\":\"bench\",\"text\":\"bench 1234\","
        "\"link\":null,\"media\":[],\"campaign\":null,"
        "\"scheduled_at\":\"2026-11-22T10:00:00.123Z\",\"attempt\":1}";

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static CURL *request(const char *url, struct curl_slist *headers)
{
	CURL *e = curl_easy_init();

	if (e == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(sizeof(body) - 1));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	return e;
}

/* A whole positive decimal number, else -1. */
static long number(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v > 0 ? v : -1;
}

/*
 * Split the arguments into URLs (kept in argv order at the front of
 * URLS, which has room for argc) and the numbers N and K. -1: bad usage.
 */
static int parse_args(int argc, char **argv, const char **urls, long *nurls,
                      long *n, long *k)
{
	long *nums[] = {n, k};
	int got = 0;

	*nurls = 0;
	for (int i = 1; i < argc; i++) {
		long v = number(argv[i]);

		if (v > 0 && got < 2)
			*nums[got++] = v;
		else if (v < 0 && got == 0 && strstr(argv[i], "://") != NULL)
			urls[(*nurls)++] = argv[i];
		else
			return -1;
	}
	return *nurls > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	long n = 20000, k = 256, nurls;
	const char **urls = calloc((size_t)argc + 1, sizeof(*urls));
	long started = 0, done = 0, failed = 0;
	struct curl_slist *headers = NULL;
	const char *hdr[] = {
	        "Content-Type: application/json",
	        "User-Agent: smmd/0.1.0",
	        "webhook-id: msg_2pQ9xWJb3kR7tYcLm4nZ8v",
	        "webhook-timestamp: 1795341600",
	        "webhook-signature: "
	        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
	        "Idempotency-Key: msg_2pQ9xWJb3kR7tYcLm4nZ8v",
	        "Expect:",
	};
	CURLM *m;
	double t0, elapsed, cpu0;

	if (urls == NULL || parse_args(argc, argv, urls, &nurls, &n, &k) < 0) {
		fprintf(stderr, "usage: curlbench URL [URL...] [N [K]]\n");
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (m = curl_multi_init()) == NULL) {
		fprintf(stderr, "curlbench: cannot initialise libcurl\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++)
		headers = curl_slist_append(headers, hdr[i]);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, k);
	t0 = now_s();
	cpu0 = cpu_s();
	while (done < n) {
		CURLMsg *msg;
		int running, left;
		long finished;

		while (started < n && started - done < k) {
			CURL *e = request(urls[started % nurls], headers);

			if (e == NULL ||
			    curl_multi_add_handle(m, e) != CURLM_OK) {
				fprintf(stderr, "curlbench: out of memory\n");
				return 1;
			}
			started++;
		}
		finished = done;

		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle,
			                  CURLINFO_RESPONSE_CODE, &status);
			if (msg->data.result != CURLE_OK || status / 100 != 2)
				failed++;
			curl_multi_remove_handle(m, msg->easy_handle);
			curl_easy_cleanup(msg->easy_handle);
			done++;
		}
		/* Wait only when nothing finished: else start the next ones. */
		if (done == finished)
			curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
	elapsed = now_s() - t0;
	printf("curlbench: %ld requests in %.3f s = %.0f/s, %ld failed, "
	       "to %ld URLs, cpu %.3f s\n",
	       n, elapsed, (double)n / elapsed, failed, nurls, cpu_s() - cpu0);
	curl_multi_cleanup(m);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	free(urls);
	return failed ? 1 : 0;
}
