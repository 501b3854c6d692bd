/*
 * The options-struct ABI (cnet.h, "Options structs and the ABI"): a struct
 * from an older header (smaller size) works with its missing fields at their
 * defaults; one from a newer header works while its unknown tail is zero and
 * is refused when it sets a field this library lacks; a struct that was not
 * initialised with its macro is refused, and nothing is created or scheduled.
 */
#include "harness.h"
#include "internal.h" /* white-box: the first release's sizes (CNET__*_OPTS_V1) */

/* A newer program's connect options: ours plus a field we do not have. */
typedef struct {
    cnet_connect_opts_t known;
    uint64_t future_field;
} newer_connect_opts_t;

static void test_sizes(void)
{
    cnet_loop_t *loop;
    cnet_server_opts_t so = CNET_SERVER_OPTS_INIT;
    cnet_listen_opts_t lo = CNET_LISTEN_OPTS_INIT;
    cnet_socket_opts_t sko = CNET_SOCKET_OPTS_INIT;
    cnet_connect_opts_t co = CNET_CONNECT_OPTS_INIT;
    cnet_framing_opts_t fo = CNET_FRAMING_OPTS_INIT;
    cnet_server_t *srv;
    cnet_socket_t *s;

    test_set_phase("INIT macros set the size");
    ASSERT_EQ(sizeof so, so.size);
    ASSERT_EQ(sizeof lo, lo.size);
    ASSERT_EQ(sizeof sko, sko.size);
    ASSERT_EQ(sizeof co, co.size);
    ASSERT_EQ(sizeof fo, fo.size);

    ASSERT_OK(cnet_loop_new(&loop));

    test_set_phase("size 0 is refused, nothing is created");
    memset(&so, 0, sizeof so);
    srv = (cnet_server_t *)&so; /* must be reset to NULL */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_new(loop, &so, &srv));
    ASSERT(srv == NULL);
    memset(&sko, 0, sizeof sko);
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_new(loop, &sko, &s));
    ASSERT(s == NULL);
    ASSERT_EQ(0, cnet_loop_alive(loop));

    test_set_phase("a smaller (older) struct works; its missing fields take defaults");
    sko = (cnet_socket_opts_t)CNET_SOCKET_OPTS_INIT;
    sko.size = CNET__SOCKET_OPTS_V1;
    ASSERT_OK(cnet_socket_new(loop, &sko, &s));
    cnet_socket_destroy(s);
    sko.size = CNET__SOCKET_OPTS_V1 - 1; /* smaller than any released layout */
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_new(loop, &sko, &s));

    test_set_phase("the older struct's missing fields are not read");
    {
        /* Only the first CNET__SERVER_OPTS_V1 bytes are ours to read: poison what follows. */
        unsigned char buf[sizeof(cnet_server_opts_t) + 64];
        cnet_server_opts_t base = CNET_SERVER_OPTS_INIT;
        base.size = CNET__SERVER_OPTS_V1;
        base.max_connections = 3;
        memset(buf, 0xA5, sizeof buf);
        memcpy(buf, &base, CNET__SERVER_OPTS_V1);
        ASSERT_OK(cnet_server_new(loop, (const cnet_server_opts_t *)(void *)buf, &srv));
        ASSERT_OK(cnet_server_close(srv, NULL, NULL));
    }

    test_set_phase("a larger (newer) struct: zero tail accepted, set tail refused");
    {
        newer_connect_opts_t n;
        memset(&n, 0, sizeof n);
        n.known = (cnet_connect_opts_t)CNET_CONNECT_OPTS_INIT;
        n.known.size = sizeof n;
        n.known.port = 1;
        n.known.host = "127.0.0.1";
        ASSERT_OK(cnet_socket_new(loop, NULL, &s));
        n.future_field = 7;
        ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_connect_opts(s, &n.known, NULL, NULL));
        ASSERT(!cnet_socket_is_connecting(s));
        n.future_field = 0;
        ASSERT_OK(cnet_socket_connect_opts(s, &n.known, NULL, NULL));
        cnet_socket_destroy(s);
    }

    test_set_phase("listen and framing options check their size too");
    ASSERT_OK(cnet_server_new(loop, NULL, &srv));
    lo.size = 0;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_server_listen_opts(srv, &lo, NULL, NULL));
    ASSERT(!cnet_server_is_listening(srv));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    fo.size = 0;
    fo.mode = CNET_FRAMING_LINES;
    ASSERT_ERR(CNET_ERR_INVALID_ARG_VALUE, cnet_socket_set_framing(s, &fo));
    cnet_socket_destroy(s);
    cnet_server_destroy(srv);

    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
}

int main(void)
{
    test_watchdog(10);
    test_sizes();
    printf("test_abi: ok\n");
    return 0;
}
