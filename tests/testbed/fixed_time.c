/* SPDX-License-Identifier: Apache-2.0 */
/* tests/testbed/fixed_time.c - an LD_PRELOAD shim whose time() always
 * answers the same instant, so that two runs of floe write the same
 * "history" attribute (it starts with the time of the run) and whole
 * output files can be compared byte for byte (check_same_bytes.py). */
#include <time.h>

/* 2001-09-09T01:46:40Z: any fixed instant will do. */
#define FIXED_TIME ((time_t)1000000000)

time_t time(time_t *t)
{
    if (t)
        *t = FIXED_TIME;
    return FIXED_TIME;
}
