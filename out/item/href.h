/* SPDX-License-Identifier: Apache-2.0 */
/* out/item/href.h - hrefs for a derived STAC Item (internal to
 * out/item/): the core schema wants links and asset hrefs to be IRI
 * references, so local paths become absolute file:// URIs and characters
 * that an IRI cannot hold are percent-encoded. */
#ifndef FLOE_STAC_ITEM_HREF_H
#define FLOE_STAC_ITEM_HREF_H

#include "common/floe_error.h"

/* A URL ("scheme://...") is kept, with only the characters an IRI cannot
 * hold (space, controls, "<>\"\\^`{|}", a '%' not followed by two hex
 * digits, non-ASCII bytes) percent-encoded. A local path becomes "file://" + its absolute
 * form (the working folder + path, "." and ".." resolved lexically), every
 * reserved character encoded; a trailing '/' is kept. *out owned. */
floe_err stac_href_uri(const char *location, char **out);

/* The asset href of data_path seen from an Item at item_path: "./NAME"
 * when both lie in the same folder, else the file:// URI. *out owned. */
floe_err stac_href_relative_data(const char *item_path, const char *data_path, char **out);

/* 1 if location is a URL ("scheme://..."), else 0 (a local path). */
int stac_href_is_url(const char *location);

/* The href of location seen from an Item at item_path: a URL as
 * stac_href_uri, a local path as stac_href_relative_data. *out owned. */
floe_err stac_href_from_item(const char *item_path, const char *location, char **out);

#endif
