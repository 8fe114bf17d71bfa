/* SPDX-License-Identifier: Apache-2.0 */
/* dataset/accessors.c - what an open floe_dataset knows, read-only: its
 * arrays, provenance, containers, the recorded metadata blob, its worker
 * pool and fetch concurrency (the open itself is open.c). */
#include "dataset/internal.h"

#include <string.h>

floe_pool *floe_dataset_pool(floe_dataset *ds)
{
    return ds->pool;
}

int floe_dataset_fetch_concurrency(const floe_dataset *ds)
{
    return floe_fetch_concurrency(&ds->fetch_opts);
}

floe_err floe_dataset_recorded(const floe_dataset *ds, const void **blob, size_t *len)
{
    *blob = NULL;
    *len = 0;
    if (!ds->recorded_ok)
        return FLOE_ERR(FLOE_EINVAL, "dataset %s was not opened with record = 1", ds->source);
    *blob = ds->recorded.data;
    *len = ds->recorded.len;
    return NULL;
}

const floe_provenance *floe_dataset_provenance(const floe_dataset *ds)
{
    return &ds->prov;
}

size_t floe_dataset_array_count(const floe_dataset *ds)
{
    return ds->narrays;
}

const floe_array *floe_dataset_array(const floe_dataset *ds, size_t i)
{
    return i < ds->narrays ? &ds->arrays[i].pub : NULL;
}

const floe_array *floe_dataset_find(const floe_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->narrays; i++)
        if (!strcmp(ds->arrays[i].pub.name, name))
            return &ds->arrays[i].pub;
    return NULL;
}

size_t floe_dataset_container_count(const floe_dataset *ds)
{
    return ic_repo_container_count(ds->repo);
}

const char *floe_dataset_container(const floe_dataset *ds, size_t i)
{
    const ic_container *c = ic_repo_container(ds->repo, i);
    return c ? c->url_prefix : NULL;
}
