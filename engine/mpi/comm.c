/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/comm.c - see comm.h. */
#include "engine/mpi/comm.h"

#include "common/floe_log.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Was this process started by an MPI launcher (mpirun, mpiexec, srun)?
 * Each sets one of these in every rank's environment; FLOE_MPI_INIT (any
 * value, documented in `floe --help`) says so by hand. */
static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE", "MPI_LOCALNRANKS", "FLOE_MPI_INIT", NULL};
    for (size_t i = 0; vars[i]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

floe_err floe_mpi_init(int *argc, char ***argv, floe_mpi *mpi)
{
    memset(mpi, 0, sizeof *mpi);
    mpi->comm = MPI_COMM_NULL;
    int initialized = 0;
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Initialized(&initialized)));
    if (!initialized && !launched_by_mpi()) {
        /* Started on its own: one rank. Open MPI's singleton start-up costs
         * about 0.35 s, more than a small interactive query takes, so floe
         * runs without MPI; every collective is then trivial (size 1, comm
         * MPI_COMM_NULL), and nothing calls MPI. */
        mpi->rank = 0;
        mpi->size = 1;
        floe_log_set_rank(0, 1);
        return NULL;
    }
    if (!initialized) {
        /* FUNNELED: worker threads (fetching, decoding) never call MPI. */
        int provided = 0;
        FLOE_CHECK(FLOE_CHECK_MPI(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided)));
        mpi->initialized_here = 1;
        mpi->no_threads = provided < MPI_THREAD_FUNNELED;
    } else {
        int provided = MPI_THREAD_SINGLE; /* a host program initialised MPI */
        FLOE_CHECK(FLOE_CHECK_MPI(MPI_Query_thread(&provided)));
        mpi->no_threads = provided < MPI_THREAD_FUNNELED;
    }
    /* A duplicate keeps floe's messages apart from those of a host program. */
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Comm_dup(MPI_COMM_WORLD, &mpi->comm)));
    /* Errors on floe's communicator come back as return codes (checked
     * with FLOE_CHECK_MPI) instead of aborting every rank on the spot. */
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Comm_set_errhandler(mpi->comm, MPI_ERRORS_RETURN)));
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Comm_rank(mpi->comm, &mpi->rank)));
    FLOE_CHECK(FLOE_CHECK_MPI(MPI_Comm_size(mpi->comm, &mpi->size)));
    floe_log_set_rank(mpi->rank, mpi->size);
    return NULL;
}

/* floe_mpi_finalize has no caller left to hand an error to. */
static void warn_mpi(floe_err err)
{
    if (!err)
        return;
    char line[1024];
    FLOE_WARN("%s", floe_err_line(err, line, sizeof line));
    floe_err_free(&err);
}

void floe_mpi_finalize(floe_mpi *mpi)
{
    if (mpi->comm != MPI_COMM_NULL && mpi->comm != 0)
        warn_mpi(FLOE_CHECK_MPI(MPI_Comm_free(&mpi->comm), "freeing floe's communicator"));
    if (mpi->initialized_here) {
        int finalized = 0;
        floe_err err = FLOE_CHECK_MPI(MPI_Finalized(&finalized));
        if (!err && !finalized)
            err = FLOE_CHECK_MPI(MPI_Finalize());
        warn_mpi(err);
    }
    mpi->initialized_here = 0;
}

floe_err floe_mpi_barrier(const floe_mpi *mpi)
{
    if (mpi->comm == MPI_COMM_NULL || mpi->comm == 0)
        return NULL;
    return FLOE_CHECK_MPI(MPI_Barrier(mpi->comm), "waiting for every rank");
}

/* An agreement that cannot run leaves this rank's own error, or the MPI
 * failure, in *errp. */
static floe_err keep_first(floe_err *errp, floe_err mpi_err)
{
    if (!*errp)
        *errp = mpi_err;
    else
        floe_err_free(&mpi_err);
    return *errp;
}

floe_err floe_mpi_agree(MPI_Comm comm, floe_err *errp)
{
    if (comm == MPI_COMM_NULL) /* one rank without MPI: nothing to agree */
        return *errp;
    int rank = 0, size = 1;
    floe_err e = FLOE_CHECK_MPI(MPI_Comm_rank(comm, &rank), "agreeing on errors");
    if (!e)
        e = FLOE_CHECK_MPI(MPI_Comm_size(comm, &size), "agreeing on errors");
    if (e) /* without rank and size this rank cannot take part at all */
        return keep_first(errp, e);

    /* The lowest failing rank speaks for the job: deterministic, whatever
     * the timing of the failures. */
    int mine = *errp ? rank : size;
    int first = size;
    e = FLOE_CHECK_MPI(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm),
                       "agreeing on errors");
    if (e)
        return keep_first(errp, e);
    if (first == size)
        return NULL;

    /* Fixed-size message: one broadcast, no length exchange. */
    struct {
        int code;
        char line[1024];
    } msg = {0};
    if (rank == first) {
        msg.code = (int)floe_err_code(*errp);
        floe_err_line(*errp, msg.line, sizeof msg.line);
    }
    _Static_assert(sizeof msg <= INT_MAX, "an MPI count is an int");
    e = FLOE_CHECK_MPI(MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, first, comm),
                       "agreeing on errors (rank %d's message)", first);
    if (e)
        return keep_first(errp, e);
    if (!*errp) {
        msg.line[sizeof msg.line - 1] = '\0';
        floe_code code = (msg.code > 0 && msg.code < FLOE_CODE_COUNT) ? (floe_code)msg.code
                                                                       : FLOE_EMPI;
        *errp = FLOE_ERR(code, "rank %d: %s", first, msg.line);
    }
    return *errp;
}
