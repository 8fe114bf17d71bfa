/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_log.h - leveled logging to stderr with a rank prefix.
 *
 * Under MPI every line says which rank wrote it ("floe[2] warning: ...");
 * on one rank the prefix is just "floe". Progress and info lines are meant
 * for rank 0 only: callers check floe_log_rank() == 0 or use FLOE_INFO0.
 */
#ifndef FLOE_LOG_H
#define FLOE_LOG_H

#include <stdio.h>

typedef enum floe_log_level {
    FLOE_LOG_QUIET = -1, /* nothing, not even errors from floe_log */
    FLOE_LOG_ERROR = 0,
    FLOE_LOG_WARN,
    FLOE_LOG_INFO,
    FLOE_LOG_DEBUG,
} floe_log_level;

/* Set once at start-up (and again when MPI tells the rank). rank < 0 means
 * "not running under MPI"; size is the number of ranks. */
void floe_log_set_rank(int rank, int size);
int floe_log_rank(void);
void floe_log_set_level(floe_log_level level);
floe_log_level floe_log_get_level(void);
/* Where lines go (default stderr); tests point it at a memory stream. */
void floe_log_set_stream(FILE *stream);

void floe_log(floe_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define FLOE_WARN(...) floe_log(FLOE_LOG_WARN, __VA_ARGS__)
#define FLOE_INFO(...) floe_log(FLOE_LOG_INFO, __VA_ARGS__)
#define FLOE_DEBUG(...) floe_log(FLOE_LOG_DEBUG, __VA_ARGS__)
/* Info that only rank 0 should print (one line per job, not per rank). */
#define FLOE_INFO0(...)                                                         \
    do {                                                                        \
        if (floe_log_rank() <= 0)                                               \
            floe_log(FLOE_LOG_INFO, __VA_ARGS__);                               \
    } while (0)

#endif
