/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/metadata_fetch.c - fetching one binary metadata file
 * (snapshot, manifest) of a repository and decoding it under the memory
 * budget (ic_repo_set_memory_budget): the most bytes one object may take,
 * stored or unpacked, by default the machine's physical memory, so that a
 * manifest of any size that fits the machine opens and a corrupt or
 * hostile one is stopped with an error saying what to raise. Counts the
 * manifests read (ic_repo_manifest_stats).
 */
#include "io/icechunk/internal.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

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

/* The machine's physical memory: what one metadata object may take at most
 * unless the user says otherwise. */
static size_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    if (pages <= 0 || size <= 0)
        return SIZE_MAX - 1;
    if ((unsigned long)pages > (SIZE_MAX - 1) / (unsigned long)size)
        return SIZE_MAX - 1;
    return (size_t)pages * (size_t)size;
}

void ic_repo_set_memory_budget(ic_repo *r, uint64_t bytes)
{
    r->memory_budget = bytes == 0 ? physical_memory()
                       : bytes >= SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)bytes;
}

void ic_repo_manifest_stats(const ic_repo *r, uint64_t *manifests_read, uint64_t *manifest_bytes)
{
    *manifests_read = r->manifests_read;
    *manifest_bytes = r->manifest_bytes;
}

