/* SPDX-License-Identifier: Apache-2.0 */
/* engine/mpi/traffic.c - see traffic.h. */
#include "engine/mpi/traffic.h"

#include <time.h>

/* Updated only by the thread that calls MPI (traffic.h). */
static floe_traffic counters;

double floe_traffic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void floe_traffic_sent(uint64_t n, double t0)
{
    counters.bytes_sent += n;
    counters.wait_seconds += floe_traffic_now() - t0;
}

void floe_traffic_received(uint64_t n, double t0)
{
    counters.bytes_received += n;
    counters.wait_seconds += floe_traffic_now() - t0;
}

floe_traffic floe_traffic_get(void)
{
    return counters;
}
