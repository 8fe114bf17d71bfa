/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/scripted_server.c - see scripted_server.h. */
#include "scripted_server.h"

#include "floe_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Enough for every request head the transport sends; a capture larger
 * than this is cut (the tests look for headers, not for everything). */
enum { HEAD_MAX = 16384, CAPTURE_MAX = 65536, BACKLOG = 64, LIFETIME_S = 30 };

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the client went away: fine for a test server */
        c += w;
        n -= (size_t)w;
    }
}

/* The head of the request on connection c (up to its blank line). */
static size_t read_head(int c, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    while (len < size - 1) {
        ssize_t r = read(c, buf + len, size - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = 0;
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    return len;
}

static void capture(const char *path, const char *head, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        write_all(fd, head, len);
        close(fd);
    }
}

const char SCRIPTED_RESET[] = "(a reset connection)";

static void answer(int c, const scripted_reply *r)
{
    if (r->head == SCRIPTED_RESET) {
        struct linger l = {.l_onoff = 1, .l_linger = 0}; /* close sends RST */
        setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(c);
        return;
    }
    if (r->head)
        write_all(c, r->head, strlen(r->head));
    if (r->body)
        write_all(c, r->body, r->body_len);
    shutdown(c, SHUT_WR);
    close(c);
}

static void serve(const scripted_server *s, const scripted_reply *replies, int n, int flags)
{
    alarm(LIFETIME_S); /* never outlive a broken test */
    for (int i = 0; i < n || (flags & SCRIPTED_REPEAT_LAST); i++) {
        int c = accept(s->ls, NULL, NULL);
        if (c < 0)
            _exit(1);
        char head[HEAD_MAX];
        capture(s->capture, head, read_head(c, head, sizeof head));
        if (flags & SCRIPTED_STALL)
            pause();
        answer(c, &replies[i < n ? i : n - 1]);
    }
    _exit(0);
}

void scripted_listen(scripted_server *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/floe-test-http-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->capture, sizeof s->capture, "%s/requests.txt", s->dir);
    s->ls = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->ls >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s->ls, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->ls, BACKLOG), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s->ls, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
}

void scripted_serve(scripted_server *s, const scripted_reply *replies, int n, int flags)
{
    assert_true(n > 0);
    fflush(NULL);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0)
        serve(s, replies, n, flags);
    close(s->ls);
    s->ls = -1;
}

void scripted_start(scripted_server *s, const scripted_reply *replies, int n, int flags)
{
    scripted_listen(s);
    scripted_serve(s, replies, n, flags);
}

char *scripted_stop(scripted_server *s)
{
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    char *text = calloc(1, CAPTURE_MAX);
    assert_non_null(text);
    FILE *c = fopen(s->capture, "rb");
    if (c) {
        size_t n = fread(text, 1, CAPTURE_MAX - 1, c);
        text[n] = 0;
        fclose(c);
    }
    unlink(s->capture);
    rmdir(s->dir);
    return text;
}
