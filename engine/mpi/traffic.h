/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/traffic.h - what this rank's result messages cost: the MPI
 * payload bytes it sent and received in the collection protocol
 * (engine/mpi/collect.h) and the placement of output chunks
 * (engine/mpi/place.h), and the seconds it was blocked in those calls,
 * for --report (bytes_sent, bytes_received, comm_wait_seconds).
 *
 * Process-wide counters: only the one thread that calls MPI (floe's
 * threads decode and reduce; MPI is FUNNELED) updates them, so they need
 * no lock. They count from the process's start: one job per process. */
#ifndef FLOE_MPI_TRAFFIC_H
#define FLOE_MPI_TRAFFIC_H

#include <stdint.h>

typedef struct floe_traffic {
    uint64_t bytes_sent;     /* payload bytes of the messages this rank sent */
    uint64_t bytes_received; /* ... and received */
    double wait_seconds;     /* time spent inside those sends, probes and receives */
} floe_traffic;

/* A clock for the wait: seconds, monotonic. */
double floe_traffic_now(void);
/* Count one call: n bytes sent (or received) and the seconds since t0
 * (floe_traffic_now before the call). */
void floe_traffic_sent(uint64_t n, double t0);
void floe_traffic_received(uint64_t n, double t0);
/* The counters so far. */
floe_traffic floe_traffic_get(void);

#endif
