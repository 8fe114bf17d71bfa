/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_log.c - see floe_log.h. One fprintf per line so that lines from
 * several ranks sharing a terminal do not interleave mid-line. */
#include "common/floe_log.h"

#include "common/floe_redact.h"

#include <stdarg.h>

static int log_rank = -1;
static int log_size = 1;
static floe_log_level log_level = FLOE_LOG_WARN;
static FILE *log_stream;

void floe_log_set_rank(int rank, int size)
{
    log_rank = rank;
    log_size = size;
}

int floe_log_rank(void)
{
    return log_rank;
}

void floe_log_set_level(floe_log_level level)
{
    log_level = level;
}

floe_log_level floe_log_get_level(void)
{
    return log_level;
}

void floe_log_set_stream(FILE *stream)
{
    log_stream = stream;
}

void floe_log(floe_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    if (level > log_level || level < FLOE_LOG_ERROR)
        return;
    char raw[2048], text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    floe_redact(raw, text, sizeof text); /* no passwords or signatures from URLs */
    FILE *out = log_stream ? log_stream : stderr;
    if (log_rank >= 0 && log_size > 1)
        fprintf(out, "floe[%d] %s: %s\n", log_rank, names[level], text);
    else
        fprintf(out, "floe %s: %s\n", names[level], text);
    fflush(out);
}
