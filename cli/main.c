/* SPDX-License-Identifier: Apache-2.0 */
/* cli/main.c - the floe executable. Everything lives in the library so that
 * tests can drive the same code; main only hands over the streams. */
#include "cli/cli.h"

#include "common/floe_interrupt.h"

#include <malloc.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    /* A job frees and reallocates buffers of a few MB for every tile (its
     * accumulators, a batch of decoded steps, its statistics). glibc's
     * defaults hand such blocks back to the kernel (mmap threshold, heap
     * trimming), so each new tile faulted its pages in again: 15-20% of a
     * climatology's CPU went to the kernel zeroing pages. Keeping freed
     * blocks of up to 32 MB in the heap reuses them; the peak RSS is the
     * same, since what is kept is what the next tile takes again. */
    /* Before MPI or a library starts a thread: threads inherit the block,
     * and the command unblocks the signals in this thread only, so their
     * handler always runs here (common/floe_interrupt.h). */
    floe_interrupt_block();
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    return floe_cli_main(argc, argv, stdout, stderr);
}
