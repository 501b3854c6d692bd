/*
 * bench_addr.h: the one target syntax every benchmark program accepts.
 *
 *   HOST:PORT     HOST must be 127.0.0.1
 *   [V6]:PORT     V6 must be ::1
 *   unix:PATH     a Unix domain socket path
 *
 * Anything else is refused: the benchmarks only ever talk over loopback or
 * Unix sockets, so a typo can never point them at a real network. Header-only
 * (static functions) so that each peer server stays a single-file program.
 */
#ifndef BENCH_ADDR_H
#define BENCH_ADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

struct bench_addr {
    int family;                  /* AF_INET, AF_INET6 or AF_UNIX */
    char host[INET6_ADDRSTRLEN]; /* "127.0.0.1" or "::1"; empty for AF_UNIX */
    int port;                    /* TCP port; 0 for AF_UNIX */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* AF_UNIX only */
    struct sockaddr_storage ss;                             /* ready for bind()/connect() */
    socklen_t sslen;
};

/*
 * Parses @spec into @a. Returns 0, or -1 after writing a one-line reason to
 * @err. Only 127.0.0.1 and ::1 are accepted as hosts (not 0.0.0.0, not other
 * 127/8 addresses, not names), so no benchmark can bind or connect elsewhere.
 */
static inline int bench_addr_parse(const char *spec, struct bench_addr *a, char *err, size_t errlen)
{
    const char *colon;
    char *end;
    long port;
    size_t hostlen;

    memset(a, 0, sizeof(*a));
    if (strncmp(spec, "unix:", 5) == 0) {
        const char *path = spec + 5;
        struct sockaddr_un *sun = (struct sockaddr_un *)&a->ss;

        if (path[0] == '\0' || strlen(path) >= sizeof(a->path)) {
            snprintf(err, errlen, "bad unix socket path in '%s'", spec);
            return -1;
        }
        a->family = AF_UNIX;
        strcpy(a->path, path);
        sun->sun_family = AF_UNIX;
        strcpy(sun->sun_path, path);
        a->sslen = (socklen_t)sizeof(*sun);
        return 0;
    }

    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (close == NULL || close[1] != ':') {
            snprintf(err, errlen, "expected [V6]:PORT, got '%s'", spec);
            return -1;
        }
        hostlen = (size_t)(close - spec - 1);
        if (hostlen >= sizeof(a->host)) {
            snprintf(err, errlen, "address too long in '%s'", spec);
            return -1;
        }
        memcpy(a->host, spec + 1, hostlen);
        colon = close + 1;
        a->family = AF_INET6;
    } else {
        colon = strrchr(spec, ':');
        if (colon == NULL) {
            snprintf(err, errlen, "expected HOST:PORT, [V6]:PORT or unix:PATH, got '%s'", spec);
            return -1;
        }
        hostlen = (size_t)(colon - spec);
        if (hostlen >= sizeof(a->host)) {
            snprintf(err, errlen, "address too long in '%s'", spec);
            return -1;
        }
        memcpy(a->host, spec, hostlen);
        a->family = AF_INET;
    }

    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535) {
        snprintf(err, errlen, "bad port in '%s'", spec);
        return -1;
    }
    a->port = (int)port;

    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

        if (strcmp(a->host, "127.0.0.1") != 0) {
            snprintf(err, errlen, "refusing '%s': only 127.0.0.1, [::1] or unix:PATH allowed",
                     a->host);
            return -1;
        }
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sslen = (socklen_t)sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

        if (inet_pton(AF_INET6, a->host, &sin6->sin6_addr) != 1 ||
            !IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
            snprintf(err, errlen, "refusing '%s': only 127.0.0.1, [::1] or unix:PATH allowed",
                     a->host);
            return -1;
        }
        strcpy(a->host, "::1");
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        a->sslen = (socklen_t)sizeof(*sin6);
    }
    return 0;
}

/* Parses argv[1] of a peer server or exits with a usage message. */
static inline void bench_addr_from_args(int argc, char **argv, struct bench_addr *a)
{
    char err[256];

    if (argc != 2) {
        fprintf(stderr, "usage: %s HOST:PORT | [V6]:PORT | unix:PATH\n", argv[0]);
        exit(2);
    }
    if (bench_addr_parse(argv[1], a, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", argv[0], err);
        exit(2);
    }
}

#endif /* BENCH_ADDR_H */
