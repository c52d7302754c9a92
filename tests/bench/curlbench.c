/*
 * What libcurl alone can do on this machine: N POSTs shaped like smmd's
 * webhook requests (same body size and headers), K at a time over
 * keep-alive connections, through one multi handle, with nothing else
 * (no store, no scheduler, no event loop of ours). smmd must publish
 * through libcurl's multi interface, so this is the ceiling of its burst
 * rate; the bench prints it beside the sink's rate under wrk.
 *
 *   curlbench URL [N [K]]    (defaults: 20000 requests, 256 at a time)
 *
 * Prints "curlbench: N requests in S s = R/s, F failed".
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char body[] =
        "{\"id\":\"b-1234\",\"channel\":\"bench\",\"text\":\"bench 1234\","
        "\"link\":null,\"media\":[],\"campaign\":null,"
        "\"scheduled_at\":\"2026-11-22T10:00:00.123Z\",\"attempt\":1}";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 20000;
	long k = argc > 3 ? atol(argv[3]) : 256;
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
	double t0;

	if (argc < 2 || n <= 0 || k <= 0) {
		fprintf(stderr, "usage: curlbench URL [N [K]]\n");
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
	while (done < n) {
		CURLMsg *msg;
		int running, left;
		long finished;

		while (started < n && started - done < k) {
			CURL *e = request(argv[1], headers);

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
	printf("curlbench: %ld requests in %.3f s = %.0f/s, %ld failed\n", n,
	       now_s() - t0, (double)n / (now_s() - t0), failed);
	curl_multi_cleanup(m);
	curl_slist_free_all(headers);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
