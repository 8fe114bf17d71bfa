/* SPDX-License-Identifier: Apache-2.0 */
/* common/floe_redact.c - see floe_redact.h. One pass over the text: every
 * "://" preceded by a scheme starts a URL, whose authority and query are
 * rewritten while the rest is copied. */
#include "common/floe_redact.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Query parameter names (substrings, any case) whose values are secrets:
 * AWS SigV4 (X-Amz-Signature, -Credential, -Security-Token), GCS
 * (X-Goog-Signature), Azure SAS (sig), CloudFront (Signature, Key-Pair-Id),
 * OAuth and API keys (access_token, api_key, auth), passwords. */
static const char *const secret_names[] = {"sig", "token", "credential", "secret", "pass",
                                           "pwd", "jwt", "auth", "key", "session"};

static const char redacted[] = "REDACTED";

typedef struct sink {
    char *buf;
    size_t size, len; /* len counts every byte, also those that did not fit */
} sink;

static void put(sink *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++, s->len++)
        if (s->len + 1 < s->size)
            s->buf[s->len] = p[i];
}

/* Where a URL ends in running text. */
static int url_end(char c)
{
    return !c || isspace((unsigned char)c) || strchr("\"'<>`", c);
}

static int scheme_char(char c)
{
    return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

/* Does text[at] start "://" after a scheme (a letter, then scheme chars)? */
static int url_at(const char *text, size_t at)
{
    if (strncmp(text + at, "://", 3))
        return 0;
    size_t k = at;
    while (k && scheme_char(text[k - 1]))
        k--;
    while (k < at && !isalpha((unsigned char)text[k]))
        k++;
    return k < at;
}

/* The end of a query value at p: '&', ';', '#', the URL's end, the start
 * of another URL, or punctuation that ends a URL in prose ("URL: ...",
 * "(via URL), ..."). Linear: a run of punctuation is looked at once. */
static size_t value_len(const char *text, size_t p)
{
    size_t q = p;
    while (!url_end(text[q]) && !strchr("&;#", text[q]) && !url_at(text, q)) {
        if (!strchr(".,:)]", text[q])) {
            q++;
            continue;
        }
        size_t r = q;
        while (text[r] && strchr(".,:)]", text[r]))
            r++;
        if (url_end(text[r]))
            break; /* trailing punctuation, not the value's */
        q = r;
    }
    return q - p;
}

/* The end of a secret value at p: '&', ';', '#', white space or the
 * text's end, so that no part of it survives after a quote, '<' or an
 * embedded "://" (over-redacting is the safe side); then the punctuation
 * and quotes that end it in prose or JSON ("...=X: not found", "\"...=X\"")
 * are given back. */
static size_t secret_value_len(const char *text, size_t p)
{
    size_t q = p;
    while (text[q] && !isspace((unsigned char)text[q]) && !strchr("&;#", text[q]))
        q++;
    while (q > p && strchr(".,:)]}\"'<>`", text[q - 1]))
        q--;
    return q - p;
}

static int secret_name(const char *name, size_t n)
{
    for (size_t k = 0; k < sizeof secret_names / sizeof *secret_names; k++) {
        size_t m = strlen(secret_names[k]);
        for (size_t i = 0; i + m <= n; i++)
            if (!strncasecmp(name + i, secret_names[k], m))
                return 1;
    }
    return 0;
}

/* Copy the URL whose "://" is at text[p]; returns where it ended. */
static size_t redact_url(const char *text, size_t p, sink *s)
{
    put(s, "://", 3);
    p += 3;
    size_t a = p;
    while (!url_end(text[a]) && !strchr("/?#", text[a]))
        a++;
    int at = 0, colon = 0;
    for (size_t k = a; k > p && !at; k--)
        if (text[k - 1] == '@') {
            p = k; /* drop "userinfo@" */
            at = 1;
        }
    for (size_t k = p; k < a && !at; k++)
        colon |= text[k] == ':';
    if (!at && colon) {
        /* "user:pa/ss@host": a password may hold '/', '?' or '#', which end
         * the authority above. An '@' later in the URL after a ':' in the
         * authority drops all of it up to the '@': over-redacting an odd
         * URL ("host:9/p?q=a@b") is better than leaking a password. */
        size_t k = a;
        while (!url_end(text[k]) && !url_at(text, k) && text[k] != '@')
            k++;
        if (text[k] == '@')
            p = k + 1;
    }
    /* Authority and path, up to the query. */
    while (!url_end(text[p]) && text[p] != '?' && !url_at(text, p))
        put(s, text + p++, 1);
    if (text[p] != '?')
        return p;
    put(s, text + p++, 1);
    for (;;) {
        size_t n = 0;
        while (!url_end(text[p + n]) && !strchr("=&;#", text[p + n]) && !url_at(text, p + n))
            n++;
        put(s, text + p, n);
        int secret = text[p + n] == '=' && secret_name(text + p, n);
        p += n;
        if (text[p] == '=') {
            put(s, "=", 1);
            p++;
            size_t v = secret ? secret_value_len(text, p) : value_len(text, p);
            if (secret)
                put(s, redacted, sizeof redacted - 1);
            else
                put(s, text + p, v);
            p += v;
        }
        if (text[p] != '&' && text[p] != ';')
            return p; /* the fragment, if any, is copied as plain text */
        put(s, text + p++, 1);
    }
}

size_t floe_redact(const char *text, char *buf, size_t size)
{
    sink s = {buf, size, 0};
    size_t p = 0;
    while (text[p]) {
        if (url_at(text, p))
            p = redact_url(text, p, &s);
        else
            put(&s, text + p++, 1);
    }
    if (size)
        buf[s.len < size ? s.len : size - 1] = '\0';
    return s.len;
}

char *floe_redact_dup(const char *text)
{
    if (!text)
        return NULL;
    size_t n = floe_redact(text, NULL, 0);
    char *out = malloc(n + 1);
    if (out)
        floe_redact(text, out, n + 1);
    return out;
}
