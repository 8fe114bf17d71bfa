/* SPDX-License-Identifier: Apache-2.0 */
/* io/icechunk/format/ids.c - Crockford base32 for Icechunk ids (see ids.h). */
#include "io/icechunk/format/ids.h"

#include <string.h>

static const char ALPHABET[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* Value of one character, -1 if outside the alphabet. */
static int char_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    const char *p = c ? strchr(ALPHABET, c) : NULL;
    return p ? (int)(p - ALPHABET) : -1;
}

char *ic_id_encode(const uint8_t *bytes, size_t nbytes, char *out)
{
    size_t nchars = IC_ID_CHARS(nbytes);
    for (size_t i = 0; i < nchars; i++) {
        /* 5 bits starting at bit 5i of the big-endian bit string; bits past
         * the end read as zero (the padding). */
        unsigned v = 0;
        for (size_t b = 5 * i; b < 5 * i + 5; b++) {
            unsigned bit = 0;
            if (b / 8 < nbytes)
                bit = (bytes[b / 8] >> (7 - b % 8)) & 1u;
            v = (v << 1) | bit;
        }
        out[i] = ALPHABET[v];
    }
    out[nchars] = '\0';
    return out;
}

bool ic_id_parse(const char *s, size_t slen, uint8_t *out, size_t nbytes)
{
    if (!s || slen != IC_ID_CHARS(nbytes))
        return false;
    uint8_t tmp[64] = {0};
    if (nbytes > sizeof tmp)
        return false;
    for (size_t i = 0; i < slen; i++) {
        int v = char_value(s[i]);
        if (v < 0)
            return false;
        for (size_t k = 0; k < 5; k++) {
            size_t b = 5 * i + k;
            unsigned bit = ((unsigned)v >> (4 - k)) & 1u;
            if (b / 8 < nbytes)
                tmp[b / 8] |= (uint8_t)(bit << (7 - b % 8));
            else if (bit)
                return false; /* non-zero padding: not what an encoder writes */
        }
    }
    memcpy(out, tmp, nbytes);
    return true;
}

floe_err ic_id_decode(const char *s, uint8_t *out, size_t nbytes)
{
    if (!s)
        return FLOE_ERR(FLOE_EINVAL, "no id given");
    size_t slen = strlen(s);
    if (slen != IC_ID_CHARS(nbytes))
        return FLOE_ERR(FLOE_EINVAL, "id \"%.64s\" has %zu characters, expected %d", s, slen,
                        (int)IC_ID_CHARS(nbytes));
    for (size_t i = 0; i < slen; i++)
        if (char_value(s[i]) < 0)
            return FLOE_ERR(FLOE_EINVAL,
                            "id \"%s\": character '%c' at %zu is not Crockford base32 (0-9, A-Z without I L O U)",
                            s, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?', i);
    if (!ic_id_parse(s, slen, out, nbytes))
        return FLOE_ERR(FLOE_EINVAL, "id \"%s\": its last character has non-zero padding bits", s);
    return NULL;
}
