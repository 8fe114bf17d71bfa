/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_stac.c - libFuzzer harness for opening a STAC document:
 * parse its text (stac/doc.h) and resolve the repository, asset, version
 * and virtual chunk containers from it (stac/open.h), without I/O, as
 * `floe extract COLLECTION.json` does before the first fetch.
 *
 * Input: the document's text. It is resolved once as the command line
 * gives no --asset/--branch, and once with a request that names an asset
 * and a tag (the other selection paths).
 */
#include "stac/doc.h"
#include "stac/open.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    stac_doc *doc = NULL;
    floe_err err = stac_doc_parse((const char *)data, size, "fuzz.json", &doc);
    if (err) {
        floe_err_free(&err);
        return 0;
    }
    const stac_request asked = {.asset = "zarr-icechunk", .cli_ref_kind = STAC_REF_TAG,
                                .cli_ref = "v1"};
    const stac_request *requests[] = {NULL, &asked};
    for (size_t i = 0; i < sizeof requests / sizeof *requests; i++) {
        stac_open_params p = {0};
        err = stac_open_resolve_doc(doc, requests[i], &p);
        floe_err_free(&err);
        stac_open_params_clear(&p);
    }
    stac_doc_free(&doc);
    return 0;
}
