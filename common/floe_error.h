/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_error.h - the one error type of floe and the macro that propagates it.
 *
 * Every fallible function returns a floe_err: NULL on success, otherwise an
 * owned error object. The caller either handles it (and frees it with
 * floe_err_free) or passes it up with FLOE_CHECK, which adds a context line
 * (what was being done: file, key, rank) and the source position.
 *
 * Nothing below main() prints an error and exits: errors travel up to main,
 * which prints one line (floe_err_line) and returns a non-zero status.
 *
 *     floe_err read_manifest(const char *key) {
 *         FLOE_CHECK(fetch(key, &buf), "manifest %s", key);
 *         if (buf.len < 12)
 *             return FLOE_ERR(FLOE_EFORMAT, "truncated: %zu bytes", buf.len);
 *         return NULL;
 *     }
 *
 * gives "manifest manifests/ABC: truncated: 7 bytes".
 */
#ifndef FLOE_ERROR_H
#define FLOE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum floe_code {
    FLOE_OK = 0,
    FLOE_EINVAL,       /* bad argument or request (user input) */
    FLOE_ENOMEM,       /* allocation failed or a size cap was hit */
    FLOE_EIO,          /* local file system */
    FLOE_ENET,         /* transport: DNS, refused, reset, timeout, HTTP 5xx */
    FLOE_ENOTFOUND,    /* object, key, ref, variable or snapshot does not exist */
    FLOE_EFORMAT,      /* corrupt or truncated data, malformed document */
    FLOE_EUNSUPPORTED, /* valid input that floe does not handle (yet) */
    FLOE_EAUTH,        /* unauthorised location, HTTP 401/403 */
    FLOE_ECHECKSUM,    /* source changed since the snapshot, checksum mismatch */
    FLOE_EMPI,         /* an MPI call failed, or another rank failed */
    FLOE_EINTERNAL,    /* a floe bug: an invariant did not hold */
    FLOE_EINTERRUPTED, /* stopped at a signal with its progress checkpointed */
    FLOE_CODE_COUNT
} floe_code;

typedef struct floe_error *floe_err;

/* Create an error (use the FLOE_ERR macro, which records the position).
 * Never fails: when memory is exhausted a static error is returned. Never
 * NULL, and the compiler is told so: `return FLOE_ERR(...)` is then known to
 * be an error, and a caller's out-parameter is not "maybe uninitialized" on
 * a path where FLOE_CHECK saw success. */
floe_err floe_err_new(floe_code code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5), returns_nonnull));
floe_err floe_err_newv(floe_code code, const char *file, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0), returns_nonnull));

/* Add an outer context line to err (use FLOE_CHECK). Returns err.
 * The format starts with one space, which is not printed: the macros paste
 * " " before the caller's optional format, so that FLOE_CHECK(expr) with no
 * context (position only) still hands the compiler a non-empty format to
 * check. */
floe_err floe_err_push(floe_err err, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

floe_code floe_err_code(const floe_err err);
/* Its one line has been shown to the user already: under MPI the job
 * prints it before the ranks may exit (cli/options.c cmd_job_end), and
 * main must not print it again. The static out-of-memory error cannot be
 * marked (it may then be printed twice: better than never). */
void floe_err_mark_reported(floe_err err);
int floe_err_reported(const floe_err err);
/* Short name of a code, e.g. "format" for FLOE_EFORMAT. */
const char *floe_code_name(floe_code code);
/* The innermost message, without context (borrowed, valid until freed). */
const char *floe_err_message(const floe_err err);
/* The whole error on one line: outer context first, then the cause:
 * "manifest manifests/ABC: truncated: 7 bytes". Written into buf (always
 * NUL-terminated, truncated with "..." if too long). Returns buf. */
char *floe_err_line(const floe_err err, char *buf, size_t size);
/* The source positions the error went through, innermost first, one per
 * line ("  at io/x.c:42"), for --verbose. Returns buf. */
char *floe_err_trace(const floe_err err, char *buf, size_t size);

/* Free the error and set *errp to NULL. Safe on NULL and on static errors. */
void floe_err_free(floe_err *errp);

#define FLOE_ERR(code, ...) floe_err_new((code), __FILE__, __LINE__, __VA_ARGS__)

/* FLOE_CHECK(expr [, "context %s", arg...]): evaluate expr (a floe_err);
 * on error return it from the current function with the context added.
 * The context says what was being done, naming the file/key/variable. */
#define FLOE_CHECK(expr, ...)                                                   \
    do {                                                                        \
        floe_err floe_check_err_ = (expr);                                      \
        if (floe_check_err_) {                                                  \
            floe_err_push(floe_check_err_, __FILE__, __LINE__, " " __VA_ARGS__); \
            return floe_check_err_; /* the same error, known non-NULL here */   \
        }                                                                       \
    } while (0)

/* The same for functions that own resources: store the error in `errvar`
 * and jump to `label`, where the cleanup runs and errvar is returned. */
#define FLOE_CHECK_GOTO(errvar, label, expr, ...)                               \
    do {                                                                        \
        floe_err floe_check_err_ = (expr);                                      \
        if (floe_check_err_) {                                                  \
            floe_err_push(floe_check_err_, __FILE__, __LINE__, " " __VA_ARGS__); \
            (errvar) = floe_check_err_;                                         \
            goto label;                                                         \
        }                                                                       \
    } while (0)

#endif
