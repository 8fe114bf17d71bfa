/* SPDX-License-Identifier: Apache-2.0 */
/* cli/options.c - see options.h. */
#include "cli/options.h"

#include "cli/cli.h"

#include "common/floe_interrupt.h"
#include "common/floe_log.h"
#include "common/floe_pool.h"
#include "common/floe_redact.h"
#include "engine/job/checkpoint.h"
#include "engine/job/dry_run.h"
#include "engine/plan/selection.h"
#include "engine/plan/time_intervals.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cmd_scan_init(cmd_scan *s, int argc, char **argv)
{
    memset(s, 0, sizeof *s);
    s->argc = argc;
    s->argv = argv;
    s->i = 1; /* argv[0] is the command name */
}

floe_err cmd_scan_next(cmd_scan *s, int *more)
{
    *more = 0;
    while (s->i < s->argc) {
        const char *a = s->argv[s->i++];
        if (!strcmp(a, "--")) {
            while (s->i < s->argc) {
                if (s->npositional == (int)(sizeof s->positional / sizeof *s->positional))
                    return FLOE_ERR(FLOE_EINVAL, "too many arguments ('%s')", s->argv[s->i]);
                s->positional[s->npositional++] = s->argv[s->i++];
            }
            return NULL;
        }
        /* A lone "-" or a negative number is an argument, not an option. */
        if (a[0] != '-' || a[1] == '\0' || (a[1] >= '0' && a[1] <= '9')) {
            if (s->npositional == (int)(sizeof s->positional / sizeof *s->positional))
                return FLOE_ERR(FLOE_EINVAL, "too many arguments ('%s')", a);
            s->positional[s->npositional++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        if (eq && a[1] == '-') {
            size_t n = (size_t)(eq - a);
            if (n >= sizeof s->name_buf)
                return FLOE_ERR(FLOE_EINVAL, "unknown option '%s'", a);
            memcpy(s->name_buf, a, n);
            s->name_buf[n] = '\0';
            s->name = s->name_buf;
            s->value = eq + 1;
        } else {
            s->name = a;
            s->value = NULL;
        }
        *more = 1;
        return NULL;
    }
    return NULL;
}

int cmd_is(cmd_scan *s, const char *name, const char *alias)
{
    return !strcmp(s->name, name) || (alias && !strcmp(s->name, alias));
}

floe_err cmd_value(cmd_scan *s, const char **value)
{
    if (!s->value) {
        if (s->i >= s->argc)
            return FLOE_ERR(FLOE_EINVAL, "option %s needs a value", s->name);
        s->value = s->argv[s->i++];
    }
    *value = s->value;
    return NULL;
}

static floe_err set_ref(cmd_scan *s, cmd_source *src, floe_ref_kind kind)
{
    if (src->req.ref_kind != FLOE_REF_DEFAULT)
        return FLOE_ERR(FLOE_EINVAL, "give at most one of --branch, --tag and --snapshot");
    FLOE_CHECK(cmd_value(s, &src->req.ref));
    src->req.ref_kind = kind;
    return NULL;
}

/* The current option's value as a whole number in [lo, hi]; with
 * `bytes`, a k/M/G suffix (KiB, MiB, GiB) is allowed. */
static floe_err number_option(cmd_scan *s, uint64_t lo, uint64_t hi, int bytes, uint64_t *out)
{
    const char *v;
    FLOE_CHECK(cmd_value(s, &v));
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    uint64_t mult = 1;
    if (bytes && end != v && *end && !end[1]) {
        mult = *end == 'k' || *end == 'K' ? 1024 : *end == 'M' ? 1024 * 1024
               : *end == 'G' ? 1024 * 1024 * 1024 : 0;
        if (mult)
            end++;
    }
    if (errno || *end || end == v || v[0] == '-' || !mult || n > hi / mult || n * mult < lo)
        return FLOE_ERR(FLOE_EINVAL, "%s '%s': give a whole number%s from %llu to %llu", s->name,
                        v, bytes ? " of bytes (suffix k, M or G allowed)" : "",
                        (unsigned long long)lo, (unsigned long long)hi);
    *out = (uint64_t)n * mult;
    return NULL;
}

floe_err cmd_source_option(cmd_scan *s, cmd_source *src, int *taken)
{
    *taken = 1;
    if (cmd_is(s, "--asset", NULL))
        return cmd_value(s, &src->req.asset);
    if (cmd_is(s, "--branch", NULL))
        return set_ref(s, src, FLOE_REF_BRANCH);
    if (cmd_is(s, "--tag", NULL))
        return set_ref(s, src, FLOE_REF_TAG);
    if (cmd_is(s, "--snapshot", NULL))
        return set_ref(s, src, FLOE_REF_SNAPSHOT);
    if (cmd_is(s, "--s3-endpoint", NULL))
        return cmd_value(s, &src->req.s3_endpoint);
    if (cmd_is(s, "--concurrency", NULL)) {
        uint64_t n;
        FLOE_CHECK(number_option(s, 1, 1024, 0, &n));
        src->req.fetch.concurrency = (int)n;
        return NULL;
    }
    if (cmd_is(s, "--threads", NULL)) {
        uint64_t n;
        FLOE_CHECK(number_option(s, 1, FLOE_POOL_MAX_WORKERS, 0, &n));
        src->req.threads = (int)n;
        return NULL;
    }
    if (cmd_is(s, "--max-gap", NULL)) {
        uint64_t n;
        FLOE_CHECK(number_option(s, 0, (uint64_t)1 << 40, 1, &n));
        src->req.fetch.coalesce_max_gap = n ? n : FLOE_FETCH_NO_GAP;
        return NULL;
    }
    if (cmd_is(s, "--max-request", NULL)) {
        uint64_t n;
        FLOE_CHECK(number_option(s, 1, (uint64_t)1 << 40, 1, &n));
        src->req.fetch.coalesce_max_bytes = n;
        return NULL;
    }
    if (cmd_is(s, "--retries", NULL)) {
        uint64_t n;
        FLOE_CHECK(number_option(s, 0, 100, 0, &n));
        src->req.fetch.retry.max_attempts = (int)n + 1;
        return NULL;
    }
    if (cmd_is(s, "--retry-budget", NULL)) {
        uint64_t n;
        FLOE_CHECK(number_option(s, 1, 86400, 0, &n));
        src->req.fetch.retry.budget_ms = (long)n * 1000;
        return NULL;
    }
    if (cmd_is(s, "--memory-budget", NULL))
        return number_option(s, 1, UINT64_MAX, 1, &src->req.memory_budget);
    if (cmd_is(s, "--stall-timeout", NULL)) {
        uint64_t n;
        FLOE_CHECK(number_option(s, 1, 3600, 0, &n));
        src->req.fetch.stall_timeout_ms = (long)n * 1000;
        return NULL;
    }
    if (cmd_is(s, "--allow", NULL)) {
        if (src->req.nallow == FLOE_MAX_LIST)
            return FLOE_ERR(FLOE_EINVAL, "too many --allow options");
        FLOE_CHECK(cmd_value(s, &src->allow[src->req.nallow]));
        src->req.nallow++;
        return NULL;
    }
    if (cmd_is(s, "--remap", NULL)) {
        if (src->req.nremap == FLOE_MAX_LIST)
            return FLOE_ERR(FLOE_EINVAL, "too many --remap options");
        FLOE_CHECK(cmd_value(s, &src->remap[src->req.nremap]));
        src->req.nremap++;
        return NULL;
    }
    *taken = 0;
    return NULL;
}

floe_err cmd_source_finish(cmd_scan *s, cmd_source *src)
{
    if (s->npositional == 0)
        return FLOE_ERR(FLOE_EINVAL, "%s: missing SOURCE (a STAC document or an Icechunk "
                        "repository; see 'floe %s --help')", s->argv[0], s->argv[0]);
    if (s->npositional > 1)
        return FLOE_ERR(FLOE_EINVAL, "%s: unexpected argument '%s'", s->argv[0],
                        s->positional[1]);
    src->req.source = s->positional[0];
    src->req.allow = src->allow;
    src->req.remap = src->remap;
    return NULL;
}

void cmd_source_help(FILE *out)
{
    fprintf(out,
            "SOURCE is a STAC Collection or Item (path or http(s) URL) describing a\n"
            "virtual Icechunk store, or an Icechunk repository (folder, file://, s3://,\n"
            "http(s)://).\n"
            "\n"
            "Source options:\n"
            "  --asset KEY          the STAC asset to open (default: the Icechunk asset\n"
            "                       with role latest-version)\n"
            "  --branch B | --tag T | --snapshot ID\n"
            "                       version to open (default: the document's\n"
            "                       icechunk:branch/tag/snapshot_id or version, else main)\n"
            "  --allow PREFIX       authorise reading under PREFIX (repeatable). A STAC\n"
            "                       document authorises its own containers, but only\n"
            "                       --allow authorises local files (file://), loopback,\n"
            "                       link-local and private addresses, a local repository\n"
            "                       named by a document read over http(s), and sending\n"
            "                       AWS credentials to a document's S3 endpoint (give\n"
            "                       the endpoint URL as PREFIX)\n"
            "  --remap FROM=TO      rewrite virtual chunk locations by prefix before\n"
            "                       fetching, e.g. s3://bucket/=file:///mirror/ (repeatable)\n"
            "  --s3-endpoint URL    S3 endpoint (default: the document's custom-s3\n"
            "                       platform, else $AWS_ENDPOINT_URL, else AWS); the one\n"
            "                       you name is trusted with your credentials\n"
            "  --concurrency N      byte-range requests in flight per rank (default 16)\n"
            "  --threads N          worker threads per rank that decode and reduce, 1 to\n"
            "                       %d (default: the cores this rank may use:\n"
            "                       $SLURM_CPUS_PER_TASK, else its CPU affinity divided\n"
            "                       among the ranks of the node with the same affinity,\n"
            "                       at least 1). The output is the same bytes for any N\n"
            "                       and is not recorded in the output's command\n"
            "  --max-gap BYTES      merge ranges of one file this close into one request\n"
            "                       (default 1M; 0: only touching ranges)\n"
            "  --max-request BYTES  largest merged request (default 16M)\n"
            "  --retries N          retries of every failed request (metadata and data;\n"
            "                       default 10) on HTTP 5xx, 408, 429, S3 SlowDown and\n"
            "                       other throttling codes, resets, timeouts and\n"
            "                       truncated bodies; never on other 4xx. Waits are\n"
            "                       random, up to 0.1 s doubling to 5 s, at least a\n"
            "                       server's Retry-After\n"
            "  --retry-budget S     give up on a request after S seconds of attempts\n"
            "                       and waits (default 120)\n"
            "  --stall-timeout S    retry a request silent for S seconds (default 30)\n"
            "  --memory-budget SIZE the most bytes one metadata object (a manifest) may\n"
            "                       take, stored or unpacked, per copy of it held, e.g.\n"
            "                       8G or 512M (default: the machine's physical memory,\n"
            "                       or the cgroup v2 memory limit (a Slurm job's) if\n"
            "                       smaller; none where neither is known)\n",
            FLOE_POOL_MAX_WORKERS);
}

void cmd_anomaly_help(FILE *out)
{
    fprintf(out,
            "  --anomaly-from CLIM.nc\n"
            "                       values minus a climatology, per cell, before any\n"
            "                       other reduction (CDO's ymonsub): floe climatology's\n"
            "                       output or CDO's ymonmean/yseasmean/ydaymean, grouped\n"
            "                       by month, season or day of year as the file says (its\n"
            "                       title or CDO history; else more than 12 steps, or two\n"
            "                       in a month: day of year; else month). Variable VAR_mean,\n"
            "                       else VAR. Each step by its midpoint's group; its grid\n"
            "                       must hold the selected cells (same lat/lon values).\n"
            "                       Outputs: long_name \"... anomaly\", global attribute\n"
            "                       floe_anomaly_from. CLIM.nc is never overwritten\n");
}

void cmd_time_label_help(FILE *out)
{
    fprintf(out,
            "  --time-label L       what each time stamp stands for: point (an instant),\n"
            "                       start or end of its step ([t, t+step) or (t-step, t],\n"
            "                       step the spacing to the neighbouring stamp). Default:\n"
            "                       the source's time bounds if its time coordinate has a\n"
            "                       bounds attribute, else the STAC document's\n"
            "                       cube:dimensions \"floe:time_label\", else point.\n"
            "                       --time selects the steps whose span overlaps T0/T1,\n"
            "                       grouping uses each span's middle, and outputs carry\n"
            "                       time_bnds (NLDAS-3 stamps each day at its end: end)\n");
}

floe_err cmd_grid_option(cmd_scan *s, cmd_grid_args *g, int *taken)
{
    FLOE_CHECK(cmd_run_control_option(s, &g->ctl, taken));
    if (*taken)
        return NULL;
    *taken = 1;
    if (cmd_is(s, "--vars", "-v")) { /* every -v adds its names (cli/var_list.h) */
        const char *v;
        FLOE_CHECK(cmd_value(s, &v));
        FLOE_CHECK(cmd_var_list_add(g->var_list, v));
        g->vars = g->var_list;
        return NULL;
    }
    if (cmd_is(s, "--bbox", NULL))
        return cmd_value(s, &g->bbox);
    if (cmd_is(s, "--time", NULL))
        return cmd_value(s, &g->time);
    if (cmd_is(s, "--time-label", NULL))
        return cmd_value(s, &g->time_label);
    if (cmd_is(s, "--output", "-o"))
        return cmd_value(s, &g->out);
    if (cmd_is(s, "--item", NULL))
        return cmd_value(s, &g->item);
    if (cmd_is(s, "--collection", NULL))
        return cmd_value(s, &g->collection);
    if (cmd_is(s, "--anomaly-from", NULL))
        return cmd_value(s, &g->anomaly_from);
    if (cmd_is(s, "--report", NULL))
        return cmd_value(s, &g->report);
    if (cmd_is(s, "--overwrite", "-O")) {
        g->overwrite = 1;
        return NULL;
    }
    if (cmd_is(s, "--quiet", "-q")) {
        g->quiet = 1;
        floe_log_set_level(FLOE_LOG_ERROR);
        return NULL;
    }
    if (cmd_is(s, "--dry-run", NULL)) {
        g->dry_run = 1;
        return NULL;
    }
    if (cmd_is(s, "--json", NULL)) {
        g->dry_run_json = 1;
        return NULL;
    }
    if (cmd_is(s, "--ranks", NULL)) {
        const char *v;
        FLOE_CHECK(cmd_value(s, &v));
        char *end = NULL;
        long n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > FLOE_DRY_RUN_MAX_RANKS)
            return FLOE_ERR(FLOE_EINVAL, "--ranks %s: not a number of ranks in 1..%d", v,
                            FLOE_DRY_RUN_MAX_RANKS);
        g->dry_run_ranks = (int)n;
        return NULL;
    }
    if (cmd_is(s, "--verbose", NULL)) {
        floe_log_set_level(floe_log_get_level() >= FLOE_LOG_INFO ? FLOE_LOG_DEBUG : FLOE_LOG_INFO);
        return NULL;
    }
    *taken = 0;
    return NULL;
}

void cmd_output_help(FILE *out)
{
    fprintf(out,
            "  -o, --output FILE    the file to write: NetCDF-4 (.nc, .nc4), or for series\n"
            "                       a tidy CSV (.csv: time, id, one column per output)\n"
            "  --item PATH          the derived STAC Item (default: FILE with .json)\n"
            "  --collection ID_OR_HREF\n"
            "                       file the Item under this STAC collection: an id\n"
            "                       (linked as ../collection.json) or the collection's\n"
            "                       URL or local file (its id read from it). Default:\n"
            "                       none; the source is the Item's derived_from\n"
            "  --report FILE.json   per-rank and total counts: requests, bytes, retries\n"
            "                       (metadata_retries + chunk_retries), metadata_requests,\n"
            "                       coalesced ranges,\n"
            "                       decode/wait/wall seconds, peak memory, threads, the MPI\n"
            "                       bytes of results each rank sent and received\n"
            "                       (bytes_sent, bytes_received) with the seconds it\n"
            "                       waited in those calls (comm_wait_seconds)\n"
            "  -O, --overwrite      replace outputs that exist (default: refuse); an\n"
            "                       input (the STAC document, points or region file, a\n"
            "                       local repository) is never replaced\n"
            "  -q, --quiet          no selection or progress line, errors only\n"
            "  --verbose            say what the job does (twice: debugging detail)\n");
    cmd_run_controls_help(out);
    fprintf(out,
            "-v is repeatable (-v Rainf -v Tair); spaces around names are dropped and a\n"
            "name given twice is taken once. --bbox is W,S,E,N (not CDO's lon1,lon2,\n"
            "lat1,lat2); on a terminal a run prints one line with what it selected.\n"
            "The outputs (data, Item, report) appear together, and only when the whole\n"
            "run succeeded on every rank: a run that fails, or is interrupted (SIGINT,\n"
            "SIGTERM, SIGHUP: exit 128 + signal), leaves none of them. Their folders\n"
            "must exist; every path is checked before anything is fetched.\n");
}

void cmd_dry_run_help(FILE *out)
{
    fprintf(out,
            "  --dry-run            open and plan, then print what the run would do (the\n"
            "                       variables, cells and box, steps, chunks, manifests,\n"
            "                       bytes and requests after coalescing, the split over\n"
            "                       ranks, peak memory per rank, output size) on stdout;\n"
            "                       fetches no chunk, writes nothing\n"
            "  --json               with --dry-run: the plan as one JSON object (keys in\n"
            "                       floe(1), DRY RUN)\n"
            "  --ranks N            with --dry-run: plan for N ranks (default: the ranks\n"
            "                       it runs on), e.g. for a batch job's size\n");
}

floe_err cmd_grid_finish(const char *command, const cmd_grid_args *g)
{
    FLOE_CHECK(cmd_run_controls_finish(command, &g->ctl));
    if ((g->dry_run_json || g->dry_run_ranks) && !g->dry_run)
        return FLOE_ERR(FLOE_EINVAL, "%s: %s goes with --dry-run", command,
                        g->dry_run_json ? "--json" : "--ranks");
    if (!g->vars || !*g->vars)
        return FLOE_ERR(FLOE_EINVAL, "%s: give the variables with -v VAR[,VAR...]%s", command,
                        g->vars ? " (-v named none)" : "");
    floe_bbox box; /* refused before anything is opened */
    if (g->bbox)
        FLOE_CHECK(floe_bbox_parse(g->bbox, &box), "%s", command);
    /* An empty name is refused before anything is fetched (it would fail
     * only at the final rename). */
    if (!g->out || !*g->out)
        return FLOE_ERR(FLOE_EINVAL, "%s: give the output file with -o OUT.nc%s", command,
                        g->out ? " (-o \"\" names no file)" : "");
    floe_time_label label;
    FLOE_CHECK(floe_time_label_parse(g->time_label, "--time-label", &label), "%s", command);
    if (g->item && !*g->item)
        return FLOE_ERR(FLOE_EINVAL, "%s: --item \"\" names no file", command);
    if (g->collection && !*g->collection)
        return FLOE_ERR(FLOE_EINVAL, "%s: --collection \"\" names no collection", command);
    /* a local collection document is read for its id when the Item is
     * written, after everything else: a missing one is refused now */
    if (g->collection && !strstr(g->collection, "://") &&
        (strchr(g->collection, '/') || strstr(g->collection, ".json")) &&
        access(g->collection, R_OK) != 0)
        return FLOE_ERR(FLOE_ENOTFOUND, "%s: --collection %s: no such readable file", command,
                        g->collection);
    if (g->report && !*g->report)
        return FLOE_ERR(FLOE_EINVAL, "%s: --report \"\" names no file", command);
    return NULL;
}

floe_err cmd_parse(int argc, char **argv, cmd_source *src, cmd_grid_args *g, cmd_own_option own,
                   void *own_args)
{
    cmd_scan s;
    cmd_scan_init(&s, argc, argv);
    int more;
    for (;;) {
        FLOE_CHECK(cmd_scan_next(&s, &more));
        if (!more)
            break;
        int taken;
        FLOE_CHECK(cmd_source_option(&s, src, &taken));
        if (!taken && g)
            FLOE_CHECK(cmd_grid_option(&s, g, &taken));
        if (!taken && own)
            FLOE_CHECK(own(&s, own_args, &taken));
        if (!taken)
            return FLOE_ERR(FLOE_EINVAL, "%s: unknown option '%s' (see 'floe %s --help')",
                            argv[0], s.name, argv[0]);
    }
    FLOE_CHECK(cmd_source_finish(&s, src));
    if (g)
        FLOE_CHECK(cmd_grid_finish(argv[0], g));
    return NULL;
}

/* The line as a shell would take it back, with secrets in URLs redacted
 * (common/floe_redact.h): it is recorded in every output. */
char *cmd_line(int argc, char **argv)
{
    size_t n = 8;
    for (int i = 0; i < argc; i++)
        n += strlen(argv[i]) * 4 + 3;
    char *line = malloc(n);
    if (!line)
        return NULL;
    char *p = line;
    p += sprintf(p, "floe");
    for (int i = 0; i < argc; i++) {
        int dropped = i ? cmd_run_control_dropped(argc, argv, i) : 0;
        if (dropped) { /* not part of the request (cli/run_controls.h) */
            i += dropped - 1;
            continue;
        }
        /* Quote arguments that a shell would split or expand. */
        int plain = argv[i][0] != '\0' && strspn(argv[i], "abcdefghijklmnopqrstuvwxyz"
                                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                          "0123456789-_.,/:=@+%") ==
                                                  strlen(argv[i]);
        if (plain) {
            p += sprintf(p, " %s", argv[i]);
            continue;
        }
        *p++ = ' ';
        *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *c;
            }
        }
        *p++ = '\'';
        *p = '\0';
    }
    char *shown = floe_redact_dup(line);
    free(line);
    return shown;
}

floe_err cmd_job_begin(int argc, char **argv, const cmd_source *src, const cmd_grid_args *g,
                       floe_job_request *req, cmd_job *job)
{
    memset(job, 0, sizeof *job);
    FLOE_CHECK(floe_mpi_init(NULL, NULL, &job->mpi));
    job->line = cmd_line(argc, argv);
    floe_err err = job->line ? NULL : FLOE_ERR(FLOE_ENOMEM, "%s", argv[0]);
    /* After MPI's start-up, which may install handlers of its own: an
     * interrupt removes the temporaries, and rank 0 says so. */
    if (!err)
        err = floe_interrupt_install(job->mpi.rank == 0);
    req->open = src->req;
    req->vars = g->vars;
    req->bbox = g->bbox;
    req->time = g->time;
    req->time_label = g->time_label;
    req->output = g->out;
    req->item = g->item;
    req->collection = g->collection;
    req->anomaly_from = g->anomaly_from;
    req->report = g->report;
    req->overwrite = g->overwrite;
    req->quiet = g->quiet;
    req->dry_run = g->dry_run;
    req->dry_run_json = g->dry_run_json;
    req->dry_run_ranks = g->dry_run_ranks;
    req->command = job->line;
    cmd_run_controls_apply(&g->ctl, req);
    /* A run that will checkpoint defers SIGTERM/SIGUSR1 from now on, not
     * only once its store is open: Slurm's --signal may come while the
     * dataset is being opened, and must then end the run with status 3
     * (requeued) rather than kill it (engine/job/checkpoint.h). */
    job_ckpt_mode mode = job_ckpt_mode_of(req);
    if (!err && (mode == JOB_CKPT_RUN || mode == JOB_CKPT_PIECE))
        floe_interrupt_defer(1);
    return floe_mpi_agree(job->mpi.comm, &err); /* collective */
}

floe_err cmd_job_end(cmd_job *job, floe_err err)
{
    free(job->line);
    job->line = NULL;
    floe_interrupt_silence(); /* the job is over: see floe_interrupt.h */
    /* Under mpirun a rank that exits non-zero makes the launcher kill the
     * others, so rank 0 prints the agreed error line (and flushes it)
     * first, and no rank goes on to exit before it has: else the job could
     * end with the launcher's banner and no line from floe. */
    if (err && job->mpi.size > 1)
        floe_cli_report(stderr, err);
    floe_err berr = floe_mpi_barrier(&job->mpi); /* collective */
    if (berr && !err)
        err = berr;
    else
        floe_err_free(&berr);
    floe_mpi_finalize(&job->mpi);
    return err;
}

size_t cmd_tile_memory(void)
{
    const char *e = getenv("FLOE_TILE_MEMORY");
    char *end;
    unsigned long long v = e ? strtoull(e, &end, 10) : 0;
    return e && *e && !*end && v > 0 ? (size_t)v : 0;
}
