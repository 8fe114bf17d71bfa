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
 * a STAC document cannot authorise reading the local disk; nor can it
 * authorise a loopback, link-local or private address (see below).
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
#include "io/transport/url.h"

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

/* Addresses. A location whose address is loopback, link-local, private
 * or unspecified (floe_url_host_kind: its http(s) host as written, or
 * for s3:// the S3 endpoint it is fetched from) is fetched only when a
 * --allow prefix covers it or the address is an endpoint the user named:
 * a document alone cannot point floe at the local machine or network.
 * DNS names are not resolved (a known limit, README "Security"). */
/* An endpoint the user named (--s3-endpoint, AWS_ENDPOINT_URL, or covered
 * by --allow): locations on its origin are not refused for their address.
 * One that is not a URL floe can compare vouches for nothing. */
floe_err virtual_policy_trust_endpoint(virtual_policy *p, const char *endpoint);
/* The S3 endpoint s3:// locations are fetched from (NULL: AWS, public). */
floe_err virtual_policy_s3_endpoint(virtual_policy *p, const char *endpoint);
/* The kind of address url (a URL or URL prefix, e.g. a repository a
 * document names) is fetched from, judged as a chunk's location is: its
 * http(s) host, or for s3:// the S3 endpoint set above (*via: that
 * endpoint; NULL otherwise). FLOE_HOST_PUBLIC when that is an endpoint
 * the user named, when a --allow prefix covers url, or for a local file
 * (no address: local files are judged by their path); FLOE_HOST_UNCLEAR
 * when url is not canonical. */
floe_host_kind virtual_policy_address_kind(const virtual_policy *p, const char *url,
                                           const char **via);
/* 1 when a --allow prefix covers url (a URL or URL prefix; a local file or
 * folder: its real path lies in an allowed folder's), else 0. */
int virtual_policy_user_allows(const virtual_policy *p, const char *url);

/* Decide for one location. On success *fetch_url is the (remapped) URL to
 * fetch, owned by the caller (free()). Refusals are FLOE_EAUTH naming the
 * location and what would permit it. */
floe_err virtual_policy_resolve(const virtual_policy *p, const char *location, char **fetch_url);

/* May url, a location floe is about to fetch from (e.g. the target of a
 * redirect), be fetched? NULL when its canonical form lies under a prefix
 * the user authorised, by the same rules as a chunk's (addresses
 * included; never a local file: a redirect cannot lead to the disk);
 * otherwise FLOE_EAUTH saying why. */
floe_err virtual_policy_check_target(const virtual_policy *p, const char *url);

#endif
