/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/metadata_fetch.c - fetching one binary metadata file
 * (snapshot, manifest) of a repository and decoding it under the memory
 * budget (ic_repo_set_memory_budget): the most bytes one object may take,
 * stored or unpacked, by default the machine's physical memory or the
 * process's cgroup v2 memory limit if smaller, so that a
 * manifest of any size that fits the machine opens and a corrupt or
 * hostile one is stopped with an error saying what to raise. Counts the
 * manifests read (ic_repo_manifest_stats).
 */
#include "io/icechunk/internal.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IC_CGROUP_ROOT "/sys/fs/cgroup" /* where cgroup v2 is mounted */

floe_err ic_file_fetch(ic_repo *r, const char *url, int expect_type, ic_file *f)
{
    memset(f, 0, sizeof *f);
    if (!r->zds && !(r->zds = ZSTD_createDStream()))
        return FLOE_ERR(FLOE_ENOMEM, "zstd: cannot create a decompression stream");
    floe_buf raw;
    floe_buf_init(&raw, r->memory_budget);
    floe_err err = floe_transport_get(r->t, url, 0, 0, NULL, &raw);
    char cause[512];
    if (err && raw.over_max) {
        /* Cut off at the budget (the buffer refused to pass its cap), not
         * a failed allocation: say what to do (the cause gives the size;
         * the caller names the object). */
        floe_err_line(err, cause, sizeof cause);
        floe_err_free(&err);
        err = FLOE_ERR(FLOE_ENOMEM, "stored object larger than the memory budget of %zu bytes "
                       "(%s): raise --memory-budget", r->memory_budget, cause);
    }
    if (!err) {
        err = ic_file_decode(raw.data, raw.len, expect_type, r->memory_budget, r->zds, f);
        if (err)
            ic_file_free(f);
    }
    if (!err && expect_type == IC_FILE_MANIFEST) {
        r->manifests_read++;
        r->manifest_bytes += raw.len;
    }
    floe_buf_free(&raw);
    return err;
}

floe_err ic_listed_size_check(const ic_repo *r, uint64_t stored_bytes)
{
    if (stored_bytes > r->memory_budget)
        return FLOE_ERR(FLOE_ENOMEM, "stored object larger than the memory budget of %zu bytes "
                        "(the snapshot lists %" PRIu64 " bytes): raise --memory-budget",
                        r->memory_budget, stored_bytes);
    return NULL;
}

/* The machine's physical memory. Where sysconf cannot tell, SIZE_MAX - 1:
 * in effect no budget (a cgroup limit, if any, still applies). */
static size_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0)
        return SIZE_MAX - 1;
    if ((unsigned long)pages > (SIZE_MAX - 1) / (unsigned long)size)
        return SIZE_MAX - 1;
    return (size_t)pages * (size_t)size;
}

/* The number in a cgroup v2 memory.max file, or SIZE_MAX - 1 where it
 * says "max", is missing or is not a number. */
static size_t memory_max_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return SIZE_MAX - 1;
    char line[64] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *end = NULL;
    unsigned long long n = ok && line[0] >= '0' && line[0] <= '9' ? strtoull(line, &end, 10) : 0;
    if (!end || (*end && *end != '\n') || n == 0 || n >= SIZE_MAX - 1)
        return SIZE_MAX - 1;
    return (size_t)n;
}

size_t ic_cgroup_memory_limit(const char *root, const char *rel)
{
    char path[PATH_MAX];
    size_t best = SIZE_MAX - 1;
    size_t n = strlen(rel);
    /* rel and each of its ancestors up to root: a Slurm job's limit sits on
     * the job's cgroup, above the step and task ones that say "max". */
    for (;;) {
        while (n > 0 && rel[n - 1] == '/')
            n--;
        int w = snprintf(path, sizeof path, "%s/%.*s%smemory.max", root, (int)n, rel,
                         n ? "/" : "");
        if (w > 0 && (size_t)w < sizeof path) {
            size_t limit = memory_max_file(path);
            if (limit < best)
                best = limit;
        }
        if (!n)
            return best;
        while (n > 0 && rel[n - 1] != '/')
            n--;
    }
}

/* This process's cgroup v2 path (the "0::" line of /proc/self/cgroup)
 * into rel; "" where there is none. */
static void own_cgroup(char *rel, size_t size)
{
    rel[0] = '\0';
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (!f)
        return;
    char line[PATH_MAX + 8];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "0::", 3)) {
            line[strcspn(line, "\n")] = '\0';
            const char *p = line[3] == '/' ? line + 4 : line + 3;
            size_t k = strlen(p);
            if (k < size) /* a longer one is not ours to guess: no cgroup */
                memcpy(rel, p, k + 1);
            break;
        }
    fclose(f);
}

/* What one metadata object may take at most unless the user says
 * otherwise: the smaller of the machine's physical memory and this
 * process's cgroup v2 memory limit (a Slurm job's or a container's), so a
 * job under a memory limit gets floe's error rather than the OOM killer. */
static size_t default_budget(void)
{
    char rel[PATH_MAX];
    own_cgroup(rel, sizeof rel);
    size_t phys = physical_memory(), cg = ic_cgroup_memory_limit(IC_CGROUP_ROOT, rel);
    return cg < phys ? cg : phys;
}

void ic_repo_set_memory_budget(ic_repo *r, uint64_t bytes)
{
    r->memory_budget = bytes == 0 ? default_budget()
                       : bytes >= SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)bytes;
}

void ic_repo_manifest_stats(const ic_repo *r, uint64_t *manifests_read, uint64_t *manifest_bytes)
{
    *manifests_read = r->manifests_read;
    *manifest_bytes = r->manifest_bytes;
}

