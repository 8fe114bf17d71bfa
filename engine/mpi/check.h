/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/check.h - FLOE_CHECK_MPI: the one place where an MPI return
 * code becomes a floe_err.
 *
 * MPI's default error handler (MPI_ERRORS_ARE_FATAL) aborts the job inside
 * the failing call, so a return code is only ever seen on a communicator
 * whose handler is MPI_ERRORS_RETURN: floe_mpi_init sets it on floe's own
 * duplicate of MPI_COMM_WORLD. Every MPI call in engine/ goes through the
 * macro, so such a failure travels up like any other floe error, naming the
 * call, MPI's own description and what floe was doing.
 */
#ifndef FLOE_MPI_CHECK_H
#define FLOE_MPI_CHECK_H

#include "common/floe_error.h"

#include <mpi.h>

/* The error of an MPI call's return code: NULL for MPI_SUCCESS, otherwise
 * FLOE_EMPI "CALL failed: MPI's error string" with the context added (use
 * FLOE_CHECK_MPI, which passes the call's text and position). */
floe_err floe_mpi_check(int rc, const char *call, const char *file, int line, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));

/* FLOE_CHECK_MPI(MPI_Xxx(...) [, "context %s", arg...]) is an EXPRESSION
 * that evaluates the call and yields its floe_err (NULL on success). It
 * does not return from the caller, unlike FLOE_CHECK: in a message
 * protocol a rank that stops half-way leaves its peer blocked, so the
 * caller decides whether to return (FLOE_CHECK(FLOE_CHECK_MPI(...))) or to
 * keep the first error and finish its side of the exchange. */
#define FLOE_CHECK_MPI(call, ...)                                                  \
    floe_mpi_check((call), #call, __FILE__, __LINE__, " " __VA_ARGS__)

#endif
