/*
 * A program built outside the tree against an installed cnet, the way a user
 * builds one: only <cnet.h>, linked through find_package(cnet) or pkg-config
 * (tests/test_consumer.sh). It touches one function from each area so that a
 * missing export or a broken header shows up as a link or run failure.
 */
#include <cnet.h>
#include <stdio.h>
#include <string.h>

#define CHECK(expr)                                                                            \
    do {                                                                                       \
        if (!(expr)) {                                                                         \
            fprintf(stderr, "consumer: %s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)

int main(void)
{
    CHECK(CNET_VERSION_HEX ==
          ((CNET_VERSION_MAJOR << 16) | (CNET_VERSION_MINOR << 8) | CNET_VERSION_PATCH));
    CHECK(strcmp(cnet_err_name(CNET_ECONNREFUSED), "ECONNREFUSED") == 0);
    CHECK(cnet_is_ip("127.0.0.1") == 4);
    CHECK(cnet_is_ip("::1") == 6);
    CHECK(cnet_is_ip("localhost") == 0);

    cnet_loop_t *loop = NULL;
    CHECK(cnet_loop_new(&loop) == 0 && loop != NULL);

    cnet_server_opts_t opts = CNET_SERVER_OPTS_INIT;
    cnet_server_t *srv = NULL;
    CHECK(cnet_server_new(loop, &opts, &srv) == 0 && srv != NULL);
    cnet_server_destroy(srv); /* freed after its 'close' event, on the loop */
    CHECK(cnet_loop_run(loop) == 0);
    CHECK(cnet_loop_alive(loop) == 0);
    CHECK(cnet_loop_close(loop) == 0);

    /* TLS: a secure context with every default (the system's CAs), which
     * makes a static link pull in OpenSSL. */
    cnet_tls_context_t *ctx = NULL;
    int rc = cnet_tls_context_new(NULL, &ctx, NULL, 0);
#if CNET_HAVE_TLS
    CHECK(rc == 0 && ctx != NULL);
#else
    CHECK(rc == CNET_ERR_NO_CRYPTO && ctx == NULL);
#endif
    cnet_tls_context_release(ctx);

    printf("consumer: ok (cnet %s)\n", CNET_VERSION_STRING);
    return 0;
}
