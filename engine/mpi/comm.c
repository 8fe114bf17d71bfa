/* engine/mpi/comm.c - see floe_mpi.h. */
#include "engine/mpi/comm.h"

#include "common/floe_log.h"

#include <stdlib.h>
#include <string.h>

/* Was this process started by an MPI launcher (mpirun, mpiexec, srun)?
 * Each sets one of these in every rank's environment. */
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
    MPI_Initialized(&initialized);
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
        if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return FLOE_ERR(FLOE_EMPI, "MPI_Init_thread failed");
        mpi->initialized_here = 1;
    }
    /* A duplicate keeps floe's messages apart from those of a host program. */
    if (MPI_Comm_dup(MPI_COMM_WORLD, &mpi->comm) != MPI_SUCCESS)
        return FLOE_ERR(FLOE_EMPI, "MPI_Comm_dup failed");
    MPI_Comm_rank(mpi->comm, &mpi->rank);
    MPI_Comm_size(mpi->comm, &mpi->size);
    floe_log_set_rank(mpi->rank, mpi->size);
    return NULL;
}

void floe_mpi_finalize(floe_mpi *mpi)
{
    if (mpi->comm != MPI_COMM_NULL && mpi->comm != 0)
        MPI_Comm_free(&mpi->comm);
    if (mpi->initialized_here) {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized)
            MPI_Finalize();
    }
    mpi->initialized_here = 0;
}

floe_err floe_mpi_agree(MPI_Comm comm, floe_err *errp)
{
    if (comm == MPI_COMM_NULL) /* one rank without MPI: nothing to agree */
        return *errp;
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);

    /* The lowest failing rank speaks for the job: deterministic, whatever
     * the timing of the failures. */
    int mine = *errp ? rank : size;
    int first = size;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) {
        if (!*errp)
            *errp = FLOE_ERR(FLOE_EMPI, "MPI_Allreduce failed while agreeing on errors");
        return *errp;
    }
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
    if (MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, first, comm) != MPI_SUCCESS) {
        if (!*errp)
            *errp = FLOE_ERR(FLOE_EMPI, "MPI_Bcast failed while agreeing on errors");
        return *errp;
    }
    if (!*errp) {
        msg.line[sizeof msg.line - 1] = '\0';
        floe_code code = (msg.code > 0 && msg.code < FLOE_CODE_COUNT) ? (floe_code)msg.code
                                                                       : FLOE_EMPI;
        *errp = FLOE_ERR(code, "rank %d: %s", first, msg.line);
    }
    return *errp;
}
