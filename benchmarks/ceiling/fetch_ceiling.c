/* SPDX-License-Identifier: Apache-2.0 */
/* fetch_ceiling: the network-bound ceiling. Fetches the same byte ranges a
 * workload needs from the S3 stand-in with libcurl multi, CONCURRENCY
 * requests in flight over reused connections, and throws the bytes away (no
 * decode, no copy).
 *
 *   fetch_ceiling LIST CONCURRENCY
 *
 * LIST has one range a line: "URL OFFSET LENGTH". Prints one JSON line:
 * requests, bytes, seconds, MB/s. Exit 1 if any request fails or comes back
 * short.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct req {
    char *url;
    long long off, len;
    long long got;
} req;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t sink(char *p, size_t size, size_t nmemb, void *user)
{
    (void)p;
    ((req *)user)->got += (long long)(size * nmemb);
    return size * nmemb;
}

static void start(CURLM *m, CURL *e, req *r)
{
    char range[64];
    snprintf(range, sizeof range, "%lld-%lld", r->off, r->off + r->len - 1);
    curl_easy_setopt(e, CURLOPT_URL, r->url);
    curl_easy_setopt(e, CURLOPT_RANGE, range);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_multi_add_handle(m, e);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fetch_ceiling LIST CONCURRENCY\n");
        return 2;
    }
    int conc = atoi(argv[2]);
    FILE *list = fopen(argv[1], "r");
    if (!list) {
        perror(argv[1]);
        return 1;
    }
    size_t cap = 1024, n = 0;
    req *rs = calloc(cap, sizeof *rs);
    char url[4096];
    long long off, len;
    while (fscanf(list, "%4095s %lld %lld", url, &off, &len) == 3) {
        if (n == cap) {
            rs = realloc(rs, (cap *= 2) * sizeof *rs);
            memset(rs + n, 0, (cap - n) * sizeof *rs);
        }
        rs[n].url = strdup(url);
        rs[n].off = off;
        rs[n].len = len;
        n++;
    }
    fclose(list);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)conc);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc);
    CURL **easy = calloc((size_t)conc, sizeof *easy);
    for (int i = 0; i < conc; i++)
        easy[i] = curl_easy_init();

    double t0 = now();
    size_t next = 0, done = 0;
    int failed = 0;
    for (int i = 0; i < conc && next < n; i++)
        start(m, easy[i], &rs[next++]);
    while (done < n) {
        int running = 0, q = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &q))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            req *r = NULL;
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&r);
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 206 || r->got != r->len) {
                fprintf(stderr, "fetch_ceiling: %s %lld+%lld: curl %d, HTTP %ld, %lld bytes\n", r->url, r->off,
                        r->len, (int)msg->data.result, code, r->got);
                failed = 1;
            }
            curl_multi_remove_handle(m, e);
            done++;
            if (next < n)
                start(m, e, &rs[next++]);
        }
        if (done < n)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    double dt = now() - t0;
    long long bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += rs[i].got;
    printf("{\"requests\": %zu, \"bytes\": %lld, \"seconds\": %.6f, \"MBps\": %.1f, \"concurrency\": %d}\n", n,
           bytes, dt, (double)bytes / dt / 1e6, conc);
    for (int i = 0; i < conc; i++)
        curl_easy_cleanup(easy[i]);
    curl_multi_cleanup(m);
    curl_global_cleanup();
    return failed;
}
