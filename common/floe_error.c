/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_error.c - error objects: a code, the innermost message, a stack of
 * context lines (outermost last) and the source positions passed through. */
#include "common/floe_error.h"
#include "common/floe_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FLOE_ERR_MAX_FRAMES = 32, FLOE_ERR_MAX_TEXT = 1024 };

typedef struct floe_frame {
    const char *file; /* static string from __FILE__ */
    int line;
    char *context;    /* owned, NULL when the frame only records a position */
} floe_frame;

struct floe_error {
    floe_code code;
    char *message;
    int rank;         /* rank that raised it; -1 when MPI is not in use */
    int nframes;
    floe_frame frames[FLOE_ERR_MAX_FRAMES];
    int is_static;
    int reported;     /* its line was printed already (floe_err_mark_reported) */
};

/* Returned when an error cannot even be allocated. */
static struct floe_error floe_oom_error = {
    .code = FLOE_ENOMEM, .message = "out of memory", .rank = -1, .is_static = 1,
};

static char *format_text(const char *fmt, va_list ap)
{
    char tmp[FLOE_ERR_MAX_TEXT];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    return strdup(tmp);
}

static void add_frame(floe_err err, const char *file, int line, char *context)
{
    if (err->nframes == FLOE_ERR_MAX_FRAMES) {
        /* Keep the innermost frames: they say where it went wrong. The
         * outermost context is dropped, which only shortens the line. */
        free(context);
        return;
    }
    err->frames[err->nframes++] = (floe_frame){file, line, context};
}

floe_err floe_err_newv(floe_code code, const char *file, int line, const char *fmt, va_list ap)
{
    floe_err err = calloc(1, sizeof *err);
    if (!err)
        return &floe_oom_error;
    err->code = code;
    err->message = format_text(fmt, ap);
    if (!err->message) {
        free(err);
        return &floe_oom_error;
    }
    err->rank = floe_log_rank();
    add_frame(err, file, line, NULL);
    return err;
}

floe_err floe_err_new(floe_code code, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    floe_err err = floe_err_newv(code, file, line, fmt, ap);
    va_end(ap);
    return err;
}

floe_err floe_err_push(floe_err err, const char *file, int line, const char *fmt, ...)
{
    if (!err || err->is_static)
        return err;
    char *context = NULL;
    if (fmt && fmt[0] == ' ' && fmt[1]) {
        va_list ap;
        va_start(ap, fmt);
        context = format_text(fmt + 1, ap);
        va_end(ap);
    }
    add_frame(err, file, line, context);
    return err;
}

void floe_err_mark_reported(floe_err err)
{
    if (err && !err->is_static)
        err->reported = 1;
}

int floe_err_reported(const floe_err err)
{
    return err && err->reported;
}

floe_code floe_err_code(const floe_err err)
{
    return err ? err->code : FLOE_OK;
}

const char *floe_code_name(floe_code code)
{
    static const char *const names[FLOE_CODE_COUNT] = {
        [FLOE_OK] = "ok",
        [FLOE_EINVAL] = "invalid argument",
        [FLOE_ENOMEM] = "out of memory",
        [FLOE_EIO] = "i/o",
        [FLOE_ENET] = "network",
        [FLOE_ENOTFOUND] = "not found",
        [FLOE_EFORMAT] = "format",
        [FLOE_EUNSUPPORTED] = "unsupported",
        [FLOE_EAUTH] = "unauthorised",
        [FLOE_ECHECKSUM] = "checksum",
        [FLOE_EMPI] = "mpi",
        [FLOE_EINTERNAL] = "internal",
        [FLOE_EINTERRUPTED] = "interrupted",
    };
    if ((int)code < 0 || code >= FLOE_CODE_COUNT)
        return "unknown";
    return names[code];
}

const char *floe_err_message(const floe_err err)
{
    return err ? err->message : "";
}

/* Append to buf at *pos, keeping it NUL-terminated; marks truncation. */
static void append(char *buf, size_t size, size_t *pos, const char *text)
{
    if (*pos + 1 >= size)
        return;
    size_t n = strlen(text);
    size_t room = size - 1 - *pos;
    if (n > room) {
        memcpy(buf + *pos, text, room);
        *pos += room;
        buf[*pos] = '\0';
        if (size >= 4)
            memcpy(buf + size - 4, "...", 4);
        return;
    }
    memcpy(buf + *pos, text, n + 1);
    *pos += n;
}

char *floe_err_line(const floe_err err, char *buf, size_t size)
{
    size_t pos = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (!err)
        return buf;
    for (int i = err->nframes - 1; i >= 0; i--) {
        if (!err->frames[i].context)
            continue;
        append(buf, size, &pos, err->frames[i].context);
        append(buf, size, &pos, ": ");
    }
    append(buf, size, &pos, err->message);
    /* The line must stay one line whatever a server or file put in it. */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return buf;
}

char *floe_err_trace(const floe_err err, char *buf, size_t size)
{
    size_t pos = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (!err)
        return buf;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "  %s error", floe_code_name(err->code));
    append(buf, size, &pos, tmp);
    if (err->rank >= 0) {
        snprintf(tmp, sizeof tmp, " on rank %d", err->rank);
        append(buf, size, &pos, tmp);
    }
    append(buf, size, &pos, "\n");
    for (int i = 0; i < err->nframes; i++) {
        snprintf(tmp, sizeof tmp, "  at %s:%d\n", err->frames[i].file, err->frames[i].line);
        append(buf, size, &pos, tmp);
    }
    return buf;
}

void floe_err_free(floe_err *errp)
{
    if (!errp || !*errp)
        return;
    floe_err err = *errp;
    *errp = NULL;
    if (err->is_static)
        return;
    for (int i = 0; i < err->nframes; i++)
        free(err->frames[i].context);
    free(err->message);
    free(err);
}
