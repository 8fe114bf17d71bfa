/* cmd_extract.c - `floe extract`: a bbox / time subset of one or more
 * variables, written as CF NetCDF-4 with the source coordinates and
 * attributes. One rank for now (the parallel engine is a later issue).
 *
 * Memory is one time step of the selection plus one decoded chunk, whatever
 * the length of the time range: the output is written step by step.
 */
#include "jobs/cmd_extract.h"

#include "common/floe_log.h"
#include "engine/grid_select.h"
#include "io/cf_grid_output.h"
#include "io/dataset.h"
#include "jobs/cmd_options.h"
#include "stac/stac_item.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct extract_args {
    cmd_source src;
    cmd_grid_args grid; /* -v, --bbox, --time, -o, --item, -q */
} extract_args;

void cmd_extract_help(FILE *out)
{
    fprintf(out,
            "usage: floe extract SOURCE -v VAR[,VAR...] [--bbox W,S,E,N] [--time T0[/T1]]\n"
            "                    -o OUT.nc [source options]\n"
            "\n"
            "Writes the cells whose centres lie in the bbox (degrees, STAC order, edges\n"
            "inclusive) and the time steps in the interval (ISO 8601 instant or T0/T1,\n"
            "both ends inclusive; a bare date covers its whole day, as in xarray) as a\n"
            "CF-1.8 NetCDF-4 file with the source coordinates and attributes. Without\n"
            "--bbox or --time, all cells or all steps. OUT.nc appears only when it is\n"
            "complete.\n"
            "\n"
            "Options:\n"
            "  -v, --vars LIST      variables to extract, comma-separated\n"
            "  --bbox W,S,E,N       longitude/latitude box\n"
            "  --time T0[/T1]       e.g. 2001-01-16 or 2001-01-01/2001-01-31T12:00\n"
            "  -o, --output FILE    the NetCDF-4 file to write\n"
            "  --item PATH          the derived STAC Item recording what was read\n"
            "                       (default: FILE with .json instead of .nc)\n"
            "  -q, --quiet          no progress output\n"
            "\n");
    cmd_source_help(out);
}

static floe_err parse_args(int argc, char **argv, extract_args *a)
{
    memset(a, 0, sizeof *a);
    cmd_scan s;
    cmd_scan_init(&s, argc, argv);
    int more;
    for (;;) {
        FLOE_CHECK(cmd_scan_next(&s, &more));
        if (!more)
            break;
        int taken;
        FLOE_CHECK(cmd_source_option(&s, &a->src, &taken));
        if (!taken)
            FLOE_CHECK(cmd_grid_option(&s, &a->grid, &taken));
        if (!taken)
            return FLOE_ERR(FLOE_EINVAL, "extract: unknown option '%s' (see 'floe extract --help')",
                            s.name);
    }
    FLOE_CHECK(cmd_source_finish(&s, &a->src));
    FLOE_CHECK(cmd_grid_finish("extract", &a->grid));
    return NULL;
}

/* The selection is the grid box every gridded operation shares. */
typedef floe_grid_select selection;

/* Copy the part of time slab `k` of decoded chunk `chunk` (of `a`, chunk
 * coordinates cy, cx) that lies in the selected rows and columns into the
 * time slice `slice` (count[1] x count[2]) of the selection. */
static void copy_chunk_part(const floe_array *a, const float *chunk, uint64_t k, uint64_t cy,
                            uint64_t cx, const selection *sel, float *slice)
{
    uint64_t ch = a->chunk_shape[1], cw = a->chunk_shape[2];
    uint64_t r0 = cy * ch, c0 = cx * cw;
    uint64_t y0 = r0 > sel->start[1] ? r0 : sel->start[1];
    uint64_t y1 = r0 + ch < sel->start[1] + sel->count[1] ? r0 + ch : sel->start[1] + sel->count[1];
    uint64_t x0 = c0 > sel->start[2] ? c0 : sel->start[2];
    uint64_t x1 = c0 + cw < sel->start[2] + sel->count[2] ? c0 + cw : sel->start[2] + sel->count[2];
    const float *slab = chunk + k * ch * cw;
    for (uint64_t y = y0; y < y1; y++)
        memcpy(slice + (y - sel->start[1]) * sel->count[2] + (x0 - sel->start[2]),
               slab + (y - r0) * cw + (x0 - c0), (size_t)(x1 - x0) * sizeof(float));
}

/* Where the chunks of one batch go: rows of time chunks [tc0, tc1). */
typedef struct batch_ctx {
    const floe_array *a;
    const selection *sel;
    const uint64_t *coords; /* n x 3 */
    uint64_t tc0;
    size_t slice_n;
    float *slices;          /* selected steps of the batch, in order */
} batch_ctx;

/* First selected step of the batch, as an index into slices. */
static uint64_t batch_first_step(const batch_ctx *b)
{
    uint64_t ct = b->a->chunk_shape[0], t0 = b->tc0 * ct;
    return t0 > b->sel->start[0] ? t0 : b->sel->start[0];
}

static floe_err place_chunk(void *ctx, size_t index, const void *decoded)
{
    batch_ctx *b = ctx;
    const uint64_t *c = b->coords + 3 * index;
    uint64_t ct = b->a->chunk_shape[0], first = batch_first_step(b);
    uint64_t t_end = b->sel->start[0] + b->sel->count[0];
    for (uint64_t k = 0; k < ct; k++) {
        uint64_t step = c[0] * ct + k;
        if (step < b->sel->start[0] || step >= t_end)
            continue;
        copy_chunk_part(b->a, decoded, k, c[1], c[2], b->sel,
                        b->slices + (size_t)(step - first) * b->slice_n);
    }
    return NULL;
}

/* The selection's steps are written in batches of whole time-chunk rows:
 * every chunk of a batch is requested at once (fetched concurrently,
 * decoded as they arrive) and placed into the batch's time slices, which
 * are then written in order. Memory: one batch of slices (capped at
 * BATCH_BYTES, at least one time-chunk row) plus the fetcher's window. */
#define BATCH_BYTES ((size_t)128 << 20)
#define BATCH_CHUNKS 512

static floe_err write_values(floe_dataset *ds, const floe_array *const *vars, size_t nvars,
                             const selection *sel, cf_grid_output *out, int progress)
{
    floe_err err = NULL;
    float *slices = NULL;
    uint64_t *coords = NULL;
    size_t slice_n = sel->count[1] * sel->count[2];
    size_t done = 0, total = nvars * sel->count[0];
    for (size_t v = 0; v < nvars && !err; v++) {
        const floe_array *a = vars[v];
        uint64_t ct = a->chunk_shape[0];
        uint64_t cy0 = sel->start[1] / a->chunk_shape[1];
        uint64_t cy1 = (sel->start[1] + sel->count[1] - 1) / a->chunk_shape[1] + 1;
        uint64_t cx0 = sel->start[2] / a->chunk_shape[2];
        uint64_t cx1 = (sel->start[2] + sel->count[2] - 1) / a->chunk_shape[2] + 1;
        size_t per_row = (size_t)((cy1 - cy0) * (cx1 - cx0));
        uint64_t t_end = sel->start[0] + sel->count[0];
        uint64_t tc_first = sel->start[0] / ct, tc_last = (t_end - 1) / ct + 1;
        /* time-chunk rows per batch: bounded by memory and by chunk count */
        size_t rows = BATCH_BYTES / ((size_t)ct * slice_n * sizeof(float) + 1);
        if (rows * per_row > BATCH_CHUNKS)
            rows = BATCH_CHUNKS / per_row;
        if (rows < 1)
            rows = 1;
        size_t steps_cap = rows * (size_t)ct;
        float *s2 = realloc(slices, steps_cap * slice_n * sizeof *slices);
        uint64_t *c2 = s2 ? realloc(coords, rows * per_row * 3 * sizeof *coords) : NULL;
        if (s2)
            slices = s2;
        if (c2)
            coords = c2;
        if (!s2 || !c2) {
            err = FLOE_ERR(FLOE_ENOMEM, "a batch of %zu steps of %s", steps_cap, a->name);
            break;
        }
        for (uint64_t tc0 = tc_first; tc0 < tc_last && !err; tc0 += rows) {
            uint64_t tc1 = tc0 + rows < tc_last ? tc0 + rows : tc_last;
            size_t n = 0;
            for (uint64_t tc = tc0; tc < tc1; tc++)
                for (uint64_t cy = cy0; cy < cy1; cy++)
                    for (uint64_t cx = cx0; cx < cx1; cx++, n++) {
                        coords[3 * n] = tc;
                        coords[3 * n + 1] = cy;
                        coords[3 * n + 2] = cx;
                    }
            batch_ctx b = {a, sel, coords, tc0, slice_n, slices};
            err = floe_dataset_read_chunks(ds, a, coords, n, place_chunk, &b);
            uint64_t first = batch_first_step(&b), last = tc1 * ct < t_end ? tc1 * ct : t_end;
            for (uint64_t step = first; step < last && !err; step++) {
                err = cf_grid_output_put_step(out, v, (size_t)(step - sel->start[0]),
                                              slices + (size_t)(step - first) * slice_n);
                done++;
                if (progress)
                    fprintf(stderr, "\rfloe extract: %zu/%zu steps", done, total);
            }
        }
    }
    if (progress)
        fputc('\n', stderr);
    free(coords);
    free(slices);
    return err;
}

floe_err cmd_extract_run(int argc, char **argv)
{
    extract_args a;
    FLOE_CHECK(parse_args(argc, argv, &a));

    floe_err err = NULL;
    floe_dataset *ds = NULL;
    cf_grid_output *out = NULL;
    selection sel;
    memset(&sel, 0, sizeof sel);
    char *line = cmd_line(argc, argv);
    if (!line) {
        err = FLOE_ERR(FLOE_ENOMEM, "extract");
        goto done;
    }
    FLOE_CHECK_GOTO(err, done, floe_dataset_open(&a.src.req, &ds), "%s", a.src.req.source);
    FLOE_CHECK_GOTO(err, done, floe_grid_select_make(ds, a.grid.vars, a.grid.bbox, a.grid.time, &sel));
    FLOE_INFO0("extract: %zu variable(s), %zu steps x %zu x %zu cells from %s", sel.nvars,
               sel.count[0], sel.count[1], sel.count[2], floe_dataset_provenance(ds)->snapshot_id);

    size_t ny = (size_t)sel.lat->shape[0], nx = (size_t)sel.lon->shape[0];
    cf_grid_spec spec = {
        .path = a.grid.out,
        .command = line,
        .provenance = floe_dataset_provenance(ds),
        .time = sel.time, .lat = sel.lat, .lon = sel.lon,
        .time_values = sel.tv + sel.start[0], .lat_values = sel.yv + sel.start[1],
        .lon_values = sel.xv + sel.start[2],
        .nt = sel.count[0], .ny = sel.count[1], .nx = sel.count[2],
        .lat_step = ny > 1 ? sel.yv[1] - sel.yv[0] : 0,
        .lon_step = nx > 1 ? sel.xv[1] - sel.xv[0] : 0,
        .vars = sel.vars, .nvars = sel.nvars,
    };
    FLOE_CHECK_GOTO(err, done, cf_grid_output_create(&spec, &out));
    FLOE_CHECK_GOTO(err, done,
                    write_values(ds, sel.vars, sel.nvars, &sel, out,
                                 !a.grid.quiet && isatty(STDERR_FILENO)));
    FLOE_CHECK_GOTO(err, done, cf_grid_output_commit(&out));
    /* The Item describes the committed file (size, checksum), so it comes
     * after the commit; a failure here leaves the data but no Item. */
    FLOE_CHECK_GOTO(err, done,
                    stac_item_write_grid(&spec, a.grid.item, "extract",
                                         stac_item_source_kind_of(spec.provenance->doc_kind)),
                    "derived STAC Item for %s", a.grid.out);

done:
    cf_grid_output_abort(&out);
    floe_grid_select_free(&sel);
    floe_dataset_free(&ds);
    free(line);
    return err;
}
