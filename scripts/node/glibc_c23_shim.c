/* SPDX-License-Identifier: Apache-2.0 */
/*
 * glibc_c23_shim.c -- the two C23 entry points that the native addon of
 * @earthmover/icechunk (built against glibc >= 2.38) imports, for Debian 12
 * whose glibc 2.36 does not have them.
 *
 * Loaded with LD_PRELOAD by scripts/node/run. Without it the addon fails to
 * load and npm's package would fall back to its WASM build, which cannot
 * write virtual references.
 *
 * glibc 2.38 added the __isoc23_* variants because C23 changed two details:
 * strtol with base 0 or 2 accepts a "0b" prefix, and scanf's %i likewise.
 * Forwarding to the C99 functions differs only for such binary literals,
 * which nothing in the addon's use (parsing numbers in system files and
 * environment values) is expected to meet.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int __isoc23_sscanf(const char *s, const char *fmt, ...);
long __isoc23_strtol(const char *s, char **end, int base);

int __isoc23_sscanf(const char *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsscanf(s, fmt, ap);
    va_end(ap);
    return n;
}

long __isoc23_strtol(const char *s, char **end, int base)
{
    return strtol(s, end, base);
}
