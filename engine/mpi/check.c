/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/check.c - see check.h. */
#include "engine/mpi/check.h"

#include <stdarg.h>
#include <stdio.h>

floe_err floe_mpi_check(int rc, const char *call, const char *file, int line, const char *fmt,
                        ...)
{
    if (rc == MPI_SUCCESS)
        return NULL;
    char what[MPI_MAX_ERROR_STRING + 1];
    int len = 0;
    if (MPI_Error_string(rc, what, &len) != MPI_SUCCESS || len < 0 || len > MPI_MAX_ERROR_STRING)
        snprintf(what, sizeof what, "MPI error code %d", rc);
    else
        what[len] = '\0';
    /* The call's name, not its arguments: "MPI_Recv(buf, n, ...)" -> "MPI_Recv". */
    int name = 0;
    while (call[name] && call[name] != '(' && name < 64)
        name++;
    floe_err err = floe_err_new(FLOE_EMPI, file, line, "%.*s failed: %s", name, call, what);
    if (!fmt[1])
        return err; /* no context given: fmt is the macro's lone " " */
    va_list ap;
    va_start(ap, fmt);
    char ctx[512];
    vsnprintf(ctx, sizeof ctx, fmt + 1, ap);
    va_end(ap);
    return floe_err_push(err, file, line, " %s", ctx);
}
