/* SPDX-License-Identifier: MIT */
#pragma once

/* A scripted HTTP/1.1 server for unit tests: a child process on a loopback address and an
 * ephemeral port answers from a table of routes, one connection at a time, and appends every
 * request ("METHOD PATH BODY") to a log the test reads back. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef enum StubKind {
        STUB_STATIC,            /* status, headers, body as given */
        STUB_ECHO,              /* 200, body: "METHOD PATH\nheader lines\n\nBODY" */
        STUB_CONN,              /* 200, keep-alive, body: "conn N" (N counts accepted connections) */
        STUB_BIG,               /* 200, a body of 5 MiB */
        STUB_RANGE,             /* a file: 200, or 206 for "Range: bytes=N-", with an ETag */
} StubKind;

typedef struct StubRoute {
        const char *method;     /* NULL: any */
        const char *path;
        StubKind kind;
        int status;
        const char *headers;    /* extra "Name: value\r\n" lines, or NULL */
        const char *body;
        unsigned delay_ms;      /* wait before answering */
        unsigned times;         /* 0: always; else used that many times, then skipped */
        size_t cut;             /* > 0: close the connection after this many body bytes */
} StubRoute;

typedef struct HttpStub {
        pid_t pid;
        char url[64];           /* "http://IP:PORT" */
        char log_path[64];
} HttpStub;

static inline bool stub_write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k <= 0)
                        return false;
                p += k;
                n -= (size_t) k;
        }
        return true;
}

/* Reads one request; returns false when the peer closed or sent nonsense. */
static inline bool stub_read_request(int fd, char *buf, size_t size, char **ret_body, size_t *ret_len) {
        size_t have = 0, need = 0, clen = 0;
        char *end = NULL;

        for (;;) {
                ssize_t k;

                if (end && have >= need)
                        break;
                if (have + 1 >= size)
                        return false;
                k = recv(fd, buf + have, size - have - 1, 0);
                if (k <= 0)
                        return false;
                have += (size_t) k;
                buf[have] = 0;
                if ((unsigned char) buf[0] == 0x16) {
                        /* A TLS ClientHello: answer in plain text, as an HTTP server would. */
                        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

                        (void) stub_write_all(fd, bad, sizeof bad - 1);
                        return false;
                }
                if (!end && (end = strstr(buf, "\r\n\r\n"))) {
                        const char *cl = strcasestr(buf, "\r\ncontent-length:");

                        if (cl && cl < end)
                                clen = strtoul(cl + 17, NULL, 10);
                        need = (size_t) (end + 4 - buf) + clen;
                }
        }
        end[2] = 0;     /* headers end after the last header's CRLF */
        *ret_body = end + 4;
        (*ret_body)[clen] = 0;
        *ret_len = clen;
        return true;
}

static inline void stub_serve(int lfd, StubRoute *routes, size_t n, int log_fd) {
        static char req[16384];
        unsigned conn = 0;

        for (;;) {
                int fd = accept(lfd, NULL, NULL);
                bool keep = true;

                if (fd < 0)
                        continue;
                conn++;
                while (keep) {
                        char method[16] = "", path[1024] = "", head[512], *body, *out = NULL;
                        const StubRoute *rt = NULL;
                        size_t blen, olen = 0;
                        FILE *o;

                        if (!stub_read_request(fd, req, sizeof req, &body, &blen) ||
                            sscanf(req, "%15s %1023s", method, path) != 2)
                                break;
                        dprintf(log_fd, "%s %s %s\n", method, path, body);

                        for (size_t i = 0; i < n; i++) {
                                StubRoute *r = routes + i;

                                if ((r->method && strcmp(r->method, method) != 0) || strcmp(r->path, path) != 0)
                                        continue;
                                if (r->times == (unsigned) -1)
                                        continue;       /* used up */
                                if (r->times > 0 && --r->times == 0)
                                        r->times = (unsigned) -1;
                                rt = r;
                                break;
                        }

                        o = open_memstream(&out, &olen);
                        head[0] = 0;
                        if (!rt) {
                                fprintf(o, "{\"error\":\"no route for %s %s\"}", method, path);
                                fflush(o);
                                snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\n");
                        } else {
                                if (rt->delay_ms > 0) {
                                        struct timespec ts = { rt->delay_ms / 1000, (long) (rt->delay_ms % 1000) * 1000000L };

                                        nanosleep(&ts, NULL);
                                }
                                switch (rt->kind) {
                                case STUB_ECHO:
                                        fprintf(o, "%s\n%s", req, body);
                                        break;
                                case STUB_CONN:
                                        fprintf(o, "conn %u", conn);
                                        break;
                                case STUB_BIG:
                                        for (size_t i = 0; i < 5 * 1024 * 1024 / 64; i++)
                                                fputs("0123456789012345678901234567890123456789012345678901234567890123", o);
                                        break;
                                case STUB_RANGE: {
                                        const char *range = strcasestr(req, "\r\nrange: bytes=");
                                        size_t len = strlen(rt->body ? rt->body : ""), from = 0;

                                        if (range)
                                                from = strtoul(range + 15, NULL, 10);
                                        if (from > len)
                                                from = len;
                                        fputs((rt->body ? rt->body : "") + from, o);
                                        if (range)
                                                snprintf(head, sizeof head, "HTTP/1.1 206 Partial\r\n"
                                                         "Content-Range: bytes %zu-%zu/%zu\r\nETag: \"v1\"\r\n",
                                                         from, len > 0 ? len - 1 : 0, len);
                                        else
                                                snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\n");
                                        break;
                                }
                                default:
                                        fputs(rt->body ? rt->body : "", o);
                                }
                                fflush(o);
                                if (!head[0])
                                        snprintf(head, sizeof head, "HTTP/1.1 %d Stub\r\n%s",
                                                 rt->status ? rt->status : 200, rt->headers ? rt->headers : "");
                        }
                        keep = rt && rt->kind == STUB_CONN;
                        dprintf(fd, "%sContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n",
                                head, olen, keep ? "keep-alive" : "close");
                        if (rt && rt->cut > 0 && rt->cut < olen) {
                                (void) stub_write_all(fd, out, rt->cut);
                                keep = false;
                        } else
                                (void) stub_write_all(fd, out, olen);
                        fclose(o);
                        free(out);
                }
                close(fd);
        }
}

/* Starts the server on ip (a loopback address) and an ephemeral port. */
static inline int http_stub_start(const char *ip, StubRoute *routes, size_t n, HttpStub *ret) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof sa;
        int lfd, log_fd, one = 1;
        pid_t pid, parent;

        *ret = (HttpStub) {};
        snprintf(ret->log_path, sizeof ret->log_path, "/tmp/http-stub-XXXXXX");
        log_fd = mkstemp(ret->log_path);
        if (log_fd < 0)
                return -errno;

        if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
                return -EINVAL;
        lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0)
                return -errno;
        (void) setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(lfd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(lfd, 16) < 0 ||
            getsockname(lfd, (struct sockaddr *) &sa, &sl) < 0) {
                close(lfd);
                return -errno;
        }
        snprintf(ret->url, sizeof ret->url, "http://%s:%u", ip, ntohs(sa.sin_port));

        fflush(stdout);
        parent = getpid();
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* A test that ends early (a "Bail out!") takes its server with it. */
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                stub_serve(lfd, routes, n, log_fd);
                _exit(0);
        }
        close(lfd);
        close(log_fd);
        ret->pid = pid;
        return 0;
}

static inline void http_stub_stop(HttpStub *s) {
        if (s->pid > 0) {
                kill(s->pid, SIGKILL);
                (void) waitpid(s->pid, NULL, 0);
                s->pid = 0;
        }
        if (s->log_path[0])
                (void) unlink(s->log_path);
}

/* The request log so far, as a new string. */
__attribute__((noinline)) static char *http_stub_log(const HttpStub *s) {
        FILE *f = fopen(s->log_path, "re");
        char *buf = NULL;
        size_t size = 0;
        FILE *o;
        int ch;

        o = open_memstream(&buf, &size);
        if (f) {
                while ((ch = fgetc(f)) != EOF)
                        fputc(ch, o);
                fclose(f);
        }
        fclose(o);
        return buf;
}

/* An address where nothing listens: bound, then closed. */
static inline int stub_closed_port_url(const char *ip, char *buf, size_t size) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t sl = sizeof sa;
        int fd;

        if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
                return -EINVAL;
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || getsockname(fd, (struct sockaddr *) &sa, &sl) < 0) {
                close(fd);
                return -errno;
        }
        snprintf(buf, size, "http://%s:%u", ip, ntohs(sa.sin_port));
        close(fd);
        return 0;
}
