/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_interrupt.c - see floe_interrupt.h. The registry is a fixed
 * table of path buffers with an atomic "in use" flag each, so the handler
 * (which may run on any thread, at any moment) never follows a pointer
 * that is being freed and never allocates. */
#include "common/floe_interrupt.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

typedef struct live_path {
    atomic_int used; /* 0 free, -1 being written, 1 live */
    char path[PATH_MAX];
} live_path;

static live_path live[FLOE_INTERRUPT_MAX_PATHS];
static atomic_int announce;  /* this process prints the line */
static atomic_int holding;   /* outputs are being committed */
static atomic_int pending;   /* a signal that came while holding */
static atomic_int committed; /* the outputs are in place */
static atomic_int deferring; /* a checkpointing job: SIGTERM/SIGUSR1 only ask it to stop */
static atomic_int requested; /* the deferred signal that came, 0 none */
static int installed;

static const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};

/* The set of handled signals. */
static sigset_t handled_set(void)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof handled / sizeof *handled; i++)
        sigaddset(&set, handled[i]);
    return set;
}

static const char *signal_name(int sig)
{
    return sig == SIGINT    ? "SIGINT"
           : sig == SIGTERM ? "SIGTERM"
           : sig == SIGUSR1 ? "SIGUSR1"
                            : "SIGHUP";
}

/* write(2) all of s to stderr (async-signal-safe). */
static void say(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void unlink_live(void)
{
    for (int i = 0; i < FLOE_INTERRUPT_MAX_PATHS; i++)
        if (atomic_load(&live[i].used) == 1)
            unlink(live[i].path);
}

/* Remove the live paths, say so, and end as killed by sig. */
static void take(int sig)
{
    unlink_live();
    if (atomic_load(&announce)) {
        say("floe: interrupted by ");
        say(signal_name(sig));
        say(atomic_load(&committed) ? " after the output was written\n"
                                    : ": no output written\n");
    }
    signal(sig, SIG_DFL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL); /* a held signal: let it kill now */
    raise(sig);
}

static void on_signal(int sig)
{
    /* Deferred: the job saves its progress at its next unit boundary and
     * stops. Another SIGTERM or SIGUSR1 meanwhile changes nothing: at a
     * time limit Slurm delivers SIGTERM twice (slurmstepd, and srun
     * forwarding its own), and its SIGKILL after KillWait is the hard
     * stop; any other signal is taken as usual. */
    if (atomic_load(&deferring) && (sig == SIGTERM || sig == SIGUSR1)) {
        int none = 0;
        atomic_compare_exchange_strong(&requested, &none, sig);
        return;
    }
    if (atomic_load(&holding)) {
        atomic_store(&pending, sig);
        return;
    }
    take(sig);
}

void floe_interrupt_block(void)
{
    sigset_t set = handled_set();
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

floe_err floe_interrupt_install(int announce_it)
{
    atomic_store(&announce, announce_it != 0);
    sigset_t set = handled_set();
    if (installed) {
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        return NULL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof handled / sizeof *handled; i++)
        sigaddset(&sa.sa_mask, handled[i]); /* one handler at a time */
    for (size_t i = 0; i < sizeof handled / sizeof *handled; i++) {
        struct sigaction old;
        if (sigaction(handled[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue; /* nohup and the like: an ignored signal stays ignored */
        if (sigaction(handled[i], &sa, NULL) != 0)
            return FLOE_ERR(FLOE_EINTERNAL, "cannot install the %s handler",
                            signal_name(handled[i]));
    }
    installed = 1;
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return NULL;
}

void floe_interrupt_abandon(void)
{
    atomic_store(&announce, 0);
    unlink_live();
}

void floe_interrupt_silence(void)
{
    atomic_store(&announce, 0);
}

floe_err floe_interrupt_add_path(const char *path)
{
    size_t n = strlen(path);
    if (n >= PATH_MAX)
        return FLOE_ERR(FLOE_EINVAL, "%.64s...: path too long", path);
    for (int i = 0; i < FLOE_INTERRUPT_MAX_PATHS; i++) {
        int free_slot = 0;
        /* claim a free slot: only this thread registers, but be exact */
        if (!atomic_compare_exchange_strong(&live[i].used, &free_slot, -1))
            continue;
        memcpy(live[i].path, path, n + 1);
        atomic_store(&live[i].used, 1);
        return NULL;
    }
    return FLOE_ERR(FLOE_EINTERNAL, "%s: more than %d files being written at once", path,
                    FLOE_INTERRUPT_MAX_PATHS);
}

void floe_interrupt_remove_path(const char *path)
{
    for (int i = 0; i < FLOE_INTERRUPT_MAX_PATHS; i++)
        if (atomic_load(&live[i].used) == 1 && strcmp(live[i].path, path) == 0) {
            atomic_store(&live[i].used, 0);
            return;
        }
}

/* Holding blocks the signals in this (the committing) thread, and the
 * flag covers a handler already running on another one: it records the
 * signal instead of acting on it. */
static sigset_t held_mask;

void floe_interrupt_hold(void)
{
    sigset_t set = handled_set();
    pthread_sigmask(SIG_BLOCK, &set, &held_mask);
    atomic_store(&holding, 1);
}

void floe_interrupt_release(int outputs_committed)
{
    if (outputs_committed)
        atomic_store(&committed, 1);
    atomic_store(&holding, 0);
    int sig = atomic_exchange(&pending, 0);
    if (sig)
        take(sig);
    pthread_sigmask(SIG_SETMASK, &held_mask, NULL); /* a signal held back arrives now */
}

void floe_interrupt_defer(int on)
{
    atomic_store(&deferring, on != 0);
}

int floe_interrupt_requested(void)
{
    return atomic_load(&requested);
}

const char *floe_interrupt_signal_name(int sig)
{
    return signal_name(sig);
}
