/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_interrupt.h - what an interrupt (SIGINT, SIGTERM, SIGHUP,
 * SIGUSR1) leaves behind: nothing, or with a checkpoint its progress.
 *
 * Slurm ends a job at its time limit with SIGTERM (then SIGKILL), a user
 * with Ctrl-C, a closed terminal with SIGHUP. Without a handler each one
 * kills floe at once and leaves its temporaries ("OUT.nc.floe-tmp-...")
 * next to the output, with no word of what happened. With one installed:
 *
 *   - every path registered here (the temporaries that are being written:
 *     common/floe_file.h registers them) is removed;
 *   - one line goes to stderr (on the rank that announces, rank 0 under
 *     MPI): "floe: interrupted by SIGTERM: no output written";
 *   - the signal is raised again with its default action, so floe ends as
 *     killed by it (a shell's $? is 128 + the signal: 130, 143, 129) and a
 *     script or Slurm sees the interrupt for what it is.
 *
 * The handler does only what is async-signal-safe: unlink(2) of paths
 * held in fixed buffers, write(2) of a prepared line, raise(3).
 *
 * While outputs are being renamed into place (floe_interrupt_hold ...
 * floe_interrupt_release) a signal is held back, so that a run ends with
 * all of its outputs or none of them; it takes effect at the release.
 *
 * Threads: MPI and libraries start threads of their own, and a signal sent
 * to the process may be handled on any thread that does not block it,
 * even while the main thread commits. So main blocks the signals first
 * (floe_interrupt_block, before MPI or anything else starts a thread: the
 * threads inherit the block) and floe_interrupt_install unblocks them in
 * the main thread only; holding blocks them there too.
 */
#ifndef FLOE_INTERRUPT_H
#define FLOE_INTERRUPT_H

#include "common/floe_error.h"

/* A checkpointing job (--checkpoint, --resume, --piece: engine/job/checkpoint.h)
 * turns deferring on: then SIGTERM and SIGUSR1 (Slurm's --signal, and
 * its time limit) only set a flag that the job reads at its next unit
 * boundary (floe_interrupt_requested), saves what it has and ends with
 * exit status 3. A second such signal changes nothing (Slurm sends its
 * time-limit SIGTERM twice: from slurmstepd and through srun; its SIGKILL
 * after KillWait is the hard stop); SIGINT and SIGHUP act as above. */

/* Block SIGINT, SIGTERM, SIGHUP and SIGUSR1 in the calling thread (main, before any
 * other thread exists; threads started later inherit the block). */
void floe_interrupt_block(void);

/* Install the handler for SIGINT, SIGTERM, SIGHUP and SIGUSR1 and unblock them in
 * the calling thread. `announce`: this process prints the line (one rank
 * of a job does). Idempotent; a second call only changes `announce`. */
floe_err floe_interrupt_install(int announce);

/* The process is about to end without unwinding (MPI_Abort): remove the
 * registered paths now and stop announcing (the abort has its own line). */
void floe_interrupt_abandon(void);

/* Stop announcing: the job is over (its outputs committed or removed), so
 * a signal from now on (mpirun ending the other ranks once one exits
 * non-zero) interrupts nothing worth a line. */
void floe_interrupt_silence(void);

/* Register a path to remove if interrupted (a copy is kept: at most
 * FLOE_INTERRUPT_MAX_PATHS at a time, each shorter than PATH_MAX). */
#define FLOE_INTERRUPT_MAX_PATHS 16
floe_err floe_interrupt_add_path(const char *path);
/* Forget it (it was committed or removed). Unknown paths are ignored. */
void floe_interrupt_remove_path(const char *path);

/* Hold signals back while outputs are committed; release ends the hold
 * and, if a signal came meanwhile, takes it now. `committed`: the outputs
 * are in place (the line then says so instead of "no output written"). */
void floe_interrupt_hold(void);
void floe_interrupt_release(int committed);

/* Defer SIGTERM and SIGUSR1 (on) or act on them at once (off, the default). */
void floe_interrupt_defer(int on);
/* The deferred signal that came (SIGTERM, SIGUSR1), or 0. */
int floe_interrupt_requested(void);
/* "SIGTERM" and the like, for the handled signals. */
const char *floe_interrupt_signal_name(int sig);

#endif
