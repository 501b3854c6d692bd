/*
 * The TLS error table against the OpenSSL it names (every verification
 * message is X509_verify_cert_error_string's, every reason exists and is
 * named by node's rule), X509_V_ERR_* -> node's codes, how an OpenSSL error
 * queue becomes node's err.code / err.message (src/tls/sslerr.c), and the
 * corners of checkServerIdentity that need no certificate (the many cases
 * checked against node itself are in test_tls_cert_differential).
 */
#include "harness.h"
#include "tls/tls.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/pem.h>

static void test_table_ranges(void)
{
    test_set_phase("table: TLS codes in -5200..-5399");
#define IN_RANGE(name, value, msg) ASSERT((value) <= -5200 && (value) >= -5399);
    CNET_TLS_VERIFY_ERR_MAP(IN_RANGE)
    CNET_TLS_OSSL_ERR_MAP(IN_RANGE)
    CNET_TLS_ERR_MAP(IN_RANGE)
#undef IN_RANGE
    ASSERT_STR_EQ("DEPTH_ZERO_SELF_SIGNED_CERT", cnet_err_name(CNET_DEPTH_ZERO_SELF_SIGNED_CERT));
    ASSERT_STR_EQ("self-signed certificate", cnet_strerror(CNET_DEPTH_ZERO_SELF_SIGNED_CERT));
    ASSERT_STR_EQ("ERR_SSL_WRONG_VERSION_NUMBER", cnet_err_name(CNET_ERR_SSL_WRONG_VERSION_NUMBER));
    ASSERT_STR_EQ("TLS handshake timeout", cnet_strerror(CNET_ERR_TLS_HANDSHAKE_TIMEOUT));
}

static void test_verify_messages(void)
{
    test_set_phase("table: verification messages are OpenSSL's");
#define SAME_MSG(name, value, msg)                                                         \
    ASSERT_STR_EQ(X509_verify_cert_error_string(X509_V_ERR_##name), cnet_strerror(value)); \
    ASSERT_EQ(value, cnet__tls_verify_code(X509_V_ERR_##name));
    CNET_TLS_VERIFY_ERR_MAP(SAME_MSG)
#undef SAME_MSG
    ASSERT_EQ(0, cnet__tls_verify_code(X509_V_OK));
    /* A result node does not name. */
    ASSERT_EQ(CNET_UNSPECIFIED, cnet__tls_verify_code(X509_V_ERR_SUBJECT_ISSUER_MISMATCH));
    ASSERT_EQ(CNET_UNSPECIFIED, cnet__tls_verify_code(X509_V_ERR_EE_KEY_TOO_SMALL));
}

/* True if some library of OpenSSL has the reason string @p reason. */
static bool reason_exists(const char *reason, int *lib_out)
{
    for (int lib = 1; lib < 64; lib++)
        for (int r = 1; r < 1500; r++) {
            const char *s = ERR_reason_error_string(ERR_PACK(lib, 0, r));
            if (s && strcmp(s, reason) == 0) {
                *lib_out = lib;
                return true;
            }
        }
    /* The reasons common to every library (ERR_R_*). */
    for (int r = 1; r < 512; r++) {
        const char *s =
            ERR_reason_error_string(ERR_PACK(ERR_LIB_OSSL_DECODER, 0, ERR_RFLAG_COMMON | r));
        if (s && strcmp(s, reason) == 0) {
            *lib_out = 0;
            return true;
        }
    }
    return false;
}

static void test_reason_names(void)
{
    test_set_phase("table: OpenSSL reasons exist and are named by node's rule");
    SSL_CTX_free(SSL_CTX_new(TLS_method())); /* loads OpenSSL's strings */
    ERR_clear_error();
#define CHECK_REASON(name, value, msg)                                               \
    do {                                                                             \
        char up[128];                                                                \
        size_t n = 0;                                                                \
        int lib;                                                                     \
        for (const char *c = msg; *c; c++)                                           \
            up[n++] = *c == ' ' ? '_' : (char)toupper((unsigned char)*c);            \
        up[n] = '\0';                                                                \
        const char *nm = #name;                                                      \
        if (!reason_exists(msg, &lib))                                               \
            TEST_FAIL_("%s: OpenSSL has no reason \"%s\"", nm, msg);                 \
        ASSERT(strlen(nm) > n && strcmp(nm + strlen(nm) - n, up) == 0);              \
        ASSERT(strncmp(nm, "ERR_SSL_", 8) == 0 || strncmp(nm, "ERR_OSSL_", 9) == 0); \
        ASSERT_EQ(value, cnet__tls_err_lookup(nm));                                  \
    } while (0);
    CNET_TLS_OSSL_ERR_MAP(CHECK_REASON)
#undef CHECK_REASON
    ASSERT_EQ(0, cnet__tls_err_lookup("ERR_SSL_NO_SUCH_THING"));
    ASSERT_EQ(0, cnet__tls_err_lookup("DEPTH_ZERO_SELF_SIGNED_CERT")); /* not a reason */
}

static void test_collect(void)
{
    cnet__tls_error_t e = {0};

    test_set_phase("collect: a connection's error, node's name and message");
    ERR_raise(ERR_LIB_SSL, SSL_R_WRONG_VERSION_NUMBER);
    ASSERT_EQ(CNET_ERR_SSL_WRONG_VERSION_NUMBER,
              cnet__tls_err_collect(CNET__TLS_NAMING_SSL, CNET_EPROTO, &e));
    ASSERT_EQ(0, ERR_peek_error());
    ASSERT_EQ(CNET_ERR_SSL_WRONG_VERSION_NUMBER, e.code);
    ASSERT_STR_EQ("ERR_SSL_WRONG_VERSION_NUMBER", e.name);
    ASSERT_STR_EQ("SSL routines", e.library);
    ASSERT_STR_EQ("wrong version number", e.reason);
    ASSERT_STR_EQ("error:0A00010B:SSL routines:test_collect:wrong version number", e.message);

    test_set_phase("collect: the earliest error is the one reported, with its data");
    ERR_raise_data(ERR_LIB_SSL, SSL_R_TLSV1_ALERT_UNKNOWN_CA, "SSL alert number %d", 48);
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_LENGTH);
    ASSERT_EQ(CNET_ERR_SSL_TLSV1_ALERT_UNKNOWN_CA,
              cnet__tls_err_collect(CNET__TLS_NAMING_SSL, CNET_EPROTO, &e));
    ASSERT_STR_EQ("error:0A000418:SSL routines:test_collect:tlsv1 alert unknown ca:SSL alert "
                  "number 48",
                  e.message);
    ASSERT_EQ(0, ERR_peek_error());

    test_set_phase("collect: a crypto call's error (createSecureContext's naming)");
    ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
    ASSERT_EQ(CNET_ERR_OSSL_PEM_NO_START_LINE,
              cnet__tls_err_collect(CNET__TLS_NAMING_CRYPTO, CNET_EPROTO, &e));
    ASSERT_STR_EQ("ERR_OSSL_PEM_NO_START_LINE", e.name);
    ASSERT_STR_EQ("error:0480006C:PEM routines::no start line", e.message);
    /* On a connection node names every library ERR_SSL_. */
    ERR_raise(ERR_LIB_PEM, PEM_R_NO_START_LINE);
    ASSERT_EQ(CNET_ERR_OSSL_UNLISTED, cnet__tls_err_collect(CNET__TLS_NAMING_SSL, 0, &e));
    ASSERT_STR_EQ("ERR_SSL_NO_START_LINE", e.name);
    /* An SSL reason in a crypto call is ERR_SSL_ too (never ERR_OSSL_SSL_). */
    ERR_raise(ERR_LIB_SSL, SSL_R_NO_CIPHER_MATCH);
    ASSERT_EQ(CNET_ERR_SSL_NO_CIPHER_MATCH, cnet__tls_err_collect(CNET__TLS_NAMING_CRYPTO, 0, &e));

    test_set_phase("collect: a reason without a code of its own");
    ERR_raise(ERR_LIB_SSL, SSL_R_BAD_SRTP_MKI_VALUE);
    ASSERT_EQ(CNET_ERR_OSSL_UNLISTED, cnet__tls_err_collect(CNET__TLS_NAMING_SSL, 0, &e));
    ASSERT_STR_EQ("ERR_SSL_BAD_SRTP_MKI_VALUE", e.name); /* node's name is still given */
    ASSERT_EQ(CNET_ERR_OSSL_UNLISTED, e.code);

    test_set_phase("collect: an empty queue gives the fallback");
    ASSERT_EQ(CNET_ECONNRESET, cnet__tls_err_collect(CNET__TLS_NAMING_SSL, CNET_ECONNRESET, &e));
    ASSERT_EQ(CNET_ECONNRESET, e.code);
    ASSERT_STR_EQ("ECONNRESET", e.name);
    ASSERT_EQ(CNET_ECONNRESET, cnet__tls_err_collect(CNET__TLS_NAMING_SSL, CNET_ECONNRESET, NULL));
    cnet__tls_error_clear(&e);
}

/* checkServerIdentity over a subject CN and an alt name string. */
static int identity(const char *host, const char *cn, const char *altnames, char **reason)
{
    cnet_tls_name_entry_t entry = {"CN", cn};
    cnet_tls_name_t subject = {cn ? &entry : NULL, cn ? 1 : 0, ""};
    return cnet__tls_check_identity(host, &subject, altnames, reason);
}

static void expect_identity(const char *host, const char *cn, const char *altnames, int code,
                            const char *want_reason)
{
    char *reason = NULL;
    int rc = identity(host, cn, altnames, &reason);
    if (rc != code)
        TEST_FAIL_("%s against CN %s, %s: expected %s, got %s (%s)", host, cn ? cn : "-",
                   altnames ? altnames : "-", cnet_err_name(code), cnet_err_name(rc),
                   reason ? reason : "");
    if (want_reason)
        ASSERT_STR_EQ(want_reason, reason);
    else
        ASSERT(reason == NULL);
    cnet__free(reason);
}

static void test_identity(void)
{
    test_set_phase("identity: node's rules without a certificate");
    expect_identity("a.com", NULL, "DNS:a.com", 0, NULL);
    expect_identity("A.COM.", NULL, "DNS:a.com", 0, NULL);
    expect_identity("b.a.com", NULL, "DNS:*.a.com", 0, NULL);
    expect_identity("a.com", NULL, "DNS:*.com", CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                    "Host: a.com. is not in the cert's altnames: DNS:*.com");
    expect_identity("a.com", "a.com", NULL, 0, NULL);
    expect_identity("b.com", "a.com", NULL, CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                    "Host: b.com. is not cert's CN: a.com");
    /* CN only counts without DNS names. */
    expect_identity("a.com", "a.com", "DNS:b.com", CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                    "Host: a.com. is not in the cert's altnames: DNS:b.com");
    expect_identity("a.com", "a.com", "URI:http://x/", 0, NULL);
    expect_identity("a.com", NULL, NULL, CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                    "Cert does not contain a DNS name");
    expect_identity("a.com", "", NULL, CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                    "Cert does not contain a DNS name");
    /* IPs against IP addresses only, in canonical form. */
    expect_identity("::1", NULL, "IP Address:0:0:0:0:0:0:0:1", 0, NULL);
    expect_identity("127.0.0.1", "127.0.0.1", NULL, CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                    "IP: 127.0.0.1 is not in the cert's list: ");
    expect_identity("127.0.0.1", NULL, "DNS:127.0.0.1", CNET_ERR_TLS_CERT_ALTNAME_INVALID,
                    "IP: 127.0.0.1 is not in the cert's list: ");
    /* Quoted names: commas inside, and a broken quote node throws on. */
    expect_identity("a,b.com", NULL, "DNS:\"a\\u002cb.com\", DNS:c.com", 0, NULL);
    expect_identity("c.com", NULL, "DNS:\"a\\u002cb.com\", DNS:c.com", 0, NULL);
    expect_identity("c.com", NULL, "DNS:\"unterminated", CNET_ERR_TLS_CERT_ALTNAME_FORMAT, NULL);
    expect_identity("c.com", NULL, "DNS:\"bad\\x\"", CNET_ERR_TLS_CERT_ALTNAME_FORMAT, NULL);
    /* A long list is kept whole in the reason. */
    char alt[6000] = "DNS:x0.com";
    for (int i = 1; i < 400; i++)
        snprintf(alt + strlen(alt), sizeof alt - strlen(alt), ", DNS:x%d.com", i);
    char *reason = NULL;
    ASSERT_EQ(CNET_ERR_TLS_CERT_ALTNAME_INVALID, identity("y.com", NULL, alt, &reason));
    ASSERT(strlen(reason) > strlen(alt));
    ASSERT(strstr(reason, "DNS:x399.com") != NULL);
    cnet__free(reason);
}

int main(void)
{
    test_watchdog(30);
    test_table_ranges();
    test_verify_messages();
    test_reason_names();
    test_collect();
    test_identity();
    return 0;
}
