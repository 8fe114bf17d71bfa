/* SPDX-License-Identifier: Apache-2.0 */
/* cf/internal.h - what the files of cf/ share: the fixed-point time scale
 * of cf_instant and the range of years, used by calendar.c (date
 * arithmetic) and time.c (units and text). Not for other folders. */
#ifndef FLOE_CF_INTERNAL_H
#define FLOE_CF_INTERNAL_H

#include <stdint.h>

#define US_PER_SECOND INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US_PER_SECOND)
/* Far enough for any climate record, near enough that day and microsecond
 * arithmetic never overflows int64 (2^63 us is about 292000 years). */
enum { CF_MAX_YEAR = 200000 };

#endif
