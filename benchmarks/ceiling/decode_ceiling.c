/* SPDX-License-Identifier: Apache-2.0 */
/* decode_ceiling: the decode-bound ceiling of one core. The chunks' bytes are
 * read into memory first (pread of each offset/length in the local NetCDF
 * files), then timed: libdeflate zlib inflate + HDF5 byte unshuffle of every
 * chunk, one core, nothing else. What floe's decode per rank is measured
 * against.
 *
 *   decode_ceiling LIST ELEMSIZE DECODED_BYTES [PASSES]
 *
 * LIST has one chunk a line: "PATH OFFSET LENGTH". DECODED_BYTES is one
 * chunk's decoded size (500 * 900 * 4 here). Prints one JSON line:
 * chunks, encoded/decoded bytes, seconds (best pass), decoded MB/s.
 */
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct chunk {
    unsigned char *bytes;
    size_t len;
} chunk;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* HDF5's shuffle filter stored byte k of every element together; put the
 * elements back. The 4-byte case reads four streams at once, which GCC
 * vectorises at -O3 (benchmarks/run builds it so, as floe builds its own
 * unshuffle): a ceiling should not be held back by a naive loop. */
static void unshuffle(const unsigned char *in, unsigned char *out, size_t n, size_t es)
{
    size_t count = n / es;
    if (es == 4) {
        const unsigned char *s0 = in, *s1 = in + count, *s2 = in + 2 * count, *s3 = in + 3 * count;
        for (size_t i = 0; i < count; i++) {
            out[4 * i] = s0[i];
            out[4 * i + 1] = s1[i];
            out[4 * i + 2] = s2[i];
            out[4 * i + 3] = s3[i];
        }
    } else {
        for (size_t b = 0; b < es; b++) {
            const unsigned char *src = in + b * count;
            for (size_t i = 0; i < count; i++)
                out[i * es + b] = src[i];
        }
    }
    memcpy(out + count * es, in + count * es, n - count * es);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: decode_ceiling LIST ELEMSIZE DECODED_BYTES [PASSES]\n");
        return 2;
    }
    size_t es = strtoul(argv[2], NULL, 10), dlen = strtoul(argv[3], NULL, 10);
    int passes = argc > 4 ? atoi(argv[4]) : 3;
    FILE *list = fopen(argv[1], "r");
    if (!list) {
        fprintf(stderr, "decode_ceiling: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    size_t cap = 1024, n = 0, enc = 0;
    chunk *ch = malloc(cap * sizeof *ch);
    char path[4096];
    long long off, len;
    while (fscanf(list, "%4095s %lld %lld", path, &off, &len) == 3) {
        if (n == cap)
            ch = realloc(ch, (cap *= 2) * sizeof *ch);
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            fprintf(stderr, "decode_ceiling: %s: %s\n", path, strerror(errno));
            return 1;
        }
        ch[n].bytes = malloc((size_t)len);
        ch[n].len = (size_t)len;
        if (pread(fd, ch[n].bytes, (size_t)len, (off_t)off) != (ssize_t)len) {
            fprintf(stderr, "decode_ceiling: %s: short read at %lld\n", path, off);
            return 1;
        }
        close(fd);
        enc += (size_t)len;
        n++;
    }
    fclose(list);

    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    unsigned char *tmp = malloc(dlen), *out = malloc(dlen);
    double best = 1e30;
    uint32_t check = 0;
    for (int p = 0; p < passes; p++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            size_t got = 0;
            if (libdeflate_zlib_decompress(d, ch[i].bytes, ch[i].len, tmp, dlen, &got) != LIBDEFLATE_SUCCESS
                || got != dlen) {
                fprintf(stderr, "decode_ceiling: chunk %zu does not inflate to %zu bytes\n", i, dlen);
                return 1;
            }
            unshuffle(tmp, out, dlen, es);
            check += out[(i * 7919) % dlen]; /* keeps the work observable */
        }
        double dt = now() - t0;
        if (dt < best)
            best = dt;
    }
    printf("{\"chunks\": %zu, \"encoded_bytes\": %zu, \"decoded_bytes\": %zu, \"seconds\": %.6f, "
           "\"decoded_MBps\": %.1f, \"passes\": %d, \"check\": %u}\n",
           n, enc, n * dlen, best, (double)(n * dlen) / best / 1e6, passes, check);
    libdeflate_free_decompressor(d);
    return 0;
}
