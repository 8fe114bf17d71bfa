/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/scripted_server.h - a scripted HTTP server on the loopback,
 * for the unit tests of the HTTP transport (test_transport_retries.c,
 * test_transport_wire.c): answers the S3 stand-in never gives, one
 * connection at a time.
 *
 * The test forks it: it accepts connection i, reads the request's head,
 * appends the head to a capture file (what the client put on the wire),
 * and answers with reply i, then closes the connection. A reply can also
 * be no answer at all (a connection closed without a byte), a reset
 * connection, or nothing until the server is stopped (a stalled server).
 * The server never outlives a broken test by more than 30 s (alarm). */
#ifndef FLOE_TEST_SCRIPTED_SERVER_H
#define FLOE_TEST_SCRIPTED_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A reply's head that sends nothing and closes the connection with a
 * reset (RST) instead of an orderly close. */
extern const char SCRIPTED_RESET[];

typedef struct scripted_reply {
    const char *head;    /* status line and headers, "\r\n\r\n" included; NULL: none (the
                            connection is closed without a byte); or SCRIPTED_RESET */
    const uint8_t *body; /* body_len bytes after the head (may be fewer than it says) */
    size_t body_len;
} scripted_reply;

/* How scripted_serve answers. */
enum {
    SCRIPTED_STALL = 1,       /* read each request, then never answer */
    SCRIPTED_REPEAT_LAST = 2, /* past the script, answer with its last reply again (without
                                 it the server exits, and later connections are refused) */
};

typedef struct scripted_server {
    int ls; /* listening socket until the server is forked */
    int port;
    pid_t pid;
    char dir[128];
    char capture[192]; /* every request head, appended */
} scripted_server;

/* Bind the listening socket on 127.0.0.1: the port is known from here on
 * (a reply may name it, e.g. a redirect to the same server). */
void scripted_listen(scripted_server *s);
/* Fork the server with its n replies (SCRIPTED_* flags). The replies are
 * the parent's memory at the fork: they need not outlive the call. */
void scripted_serve(scripted_server *s, const scripted_reply *replies, int n, int flags);
/* scripted_listen, then scripted_serve. */
void scripted_start(scripted_server *s, const scripted_reply *replies, int n, int flags);
/* Stop the server; returns the request heads it captured, "" when none
 * (the caller frees). */
char *scripted_stop(scripted_server *s);

#endif
