/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/virtual_access.h - may floe fetch this virtual chunk, and from where?
 *
 * A virtual reference points outside the repository (s3://, https://,
 * file://...). As Icechunk itself requires, floe fetches it only if
 *   1. the location lies under a virtual chunk container the REPOSITORY
 *      declares (so a tampered manifest cannot point floe anywhere), and
 *   2. after remapping (--remap FROM=TO, by prefix: e.g. the bucket to a
 *      local mirror), the location to fetch lies under a prefix the USER
 *      authorised (the STAC collection's containers, or --allow PREFIX).
 * file:// locations are followed only when a --allow prefix covers them:
 * a STAC document cannot authorise reading the local disk.
 *
 * Every location, container, --allow and --remap prefix is compared in its
 * canonical form (floe_url_canonical: no "." or ".." segments, encoded or
 * not, no fragment, no userinfo), and the canonical form is what is
 * fetched, so the string checked is the object read. A local file must
 * also have its real path (symbolic links resolved) inside the real path
 * of a folder given with --allow.
 */
#ifndef FLOE_VIRTUAL_ACCESS_H
#define FLOE_VIRTUAL_ACCESS_H

#include "common/floe_error.h"

#include <stddef.h>

typedef struct virtual_policy virtual_policy;

floe_err virtual_policy_new(virtual_policy **out);
void virtual_policy_free(virtual_policy **p);

/* A container prefix the repository declares (e.g. from its config). */
floe_err virtual_policy_declare(virtual_policy *p, const char *container_prefix);
/* A prefix the user authorises. from_cli: given with --allow (may cover
 * file://); otherwise it came from a document (STAC) and cannot. */
floe_err virtual_policy_allow(virtual_policy *p, const char *prefix, int from_cli);
/* "FROM=TO": rewrite locations starting with FROM. */
floe_err virtual_policy_remap(virtual_policy *p, const char *rule);

/* Decide for one location. On success *fetch_url is the (remapped) URL to
 * fetch, owned by the caller (free()). Refusals are FLOE_EAUTH naming the
 * location and what would permit it. */
floe_err virtual_policy_resolve(const virtual_policy *p, const char *location, char **fetch_url);

/* May url, a location floe is about to fetch from (e.g. the target of a
 * redirect), be fetched? NULL when its canonical form lies under a prefix
 * the user authorised (never a local file: a redirect cannot lead to the
 * disk); otherwise FLOE_EAUTH saying why. */
floe_err virtual_policy_check_target(const virtual_policy *p, const char *url);

#endif
