/*
 * Differential test of cnet_tls_context_new() against node's
 * tls.createSecureContext(): the same keys, certificates, CAs, CRLs,
 * passphrases and ciphers, good and broken, must succeed or fail alike, with
 * node's err.code and err.message (tests/node/tls_oracle.js, mode "ctx").
 * Skips (77) without node.
 */
#include "tls_fixtures.h"
#include "tls_oracle.h"

#include "tls/tls.h"

static tls_pki_t pki;

typedef struct ctx_case {
    const char *key, *cert, *ca, *crl, *passphrase, *ciphers, *min_version, *max_version;
} ctx_case_t;

static cnet_tls_version_t version_of(const char *name)
{
    if (!name)
        return CNET_TLS_VERSION_DEFAULT;
    if (strcmp(name, "TLSv1.3") == 0)
        return CNET_TLSV1_3;
    if (strcmp(name, "TLSv1.2") == 0)
        return CNET_TLSV1_2;
    if (strcmp(name, "TLSv1.1") == 0)
        return CNET_TLSV1_1;
    ASSERT(strcmp(name, "TLSv1") == 0);
    return CNET_TLSV1;
}

static char *ours(const ctx_case_t *c)
{
    cnet_tls_context_opts_t o = CNET_TLS_CONTEXT_OPTS_INIT;
    cnet_tls_context_t *ctx;
    char msg[512];
    json_t j = {0};

    o.key = c->key;
    o.cert = c->cert;
    o.ca = c->ca;
    o.crl = c->crl;
    o.passphrase = c->passphrase;
    o.ciphers = c->ciphers;
    o.min_version = version_of(c->min_version);
    o.max_version = version_of(c->max_version);
    int rc = cnet_tls_context_new(&o, &ctx, msg, sizeof msg);
    ASSERT_EQ(0, ERR_peek_error());
    json_lit(&j, "{");
    if (rc == 0) {
        ASSERT(ctx != NULL);
        ASSERT_STR_EQ("", msg);
        json_key(&j, "ok");
        json_lit(&j, "true");
        cnet_tls_context_release(ctx);
    } else {
        ASSERT(ctx == NULL);
        json_kstr(&j, "code", cnet_err_name(rc));
        json_kstr(&j, "message", msg);
    }
    json_lit(&j, "}");
    return j.p;
}

static char *truncated(const char *pem, size_t keep, const char *end_line)
{
    size_t n = strlen(end_line);
    char *s = malloc(keep + n + 1);
    ASSERT(s != NULL);
    memcpy(s, pem, keep);
    memcpy(s + keep, end_line, n + 1);
    return s;
}

int main(void)
{
    test_watchdog(100);
    if (!test_have_node())
        RETURN_SKIP("node is not installed");
    tls_pki_make(&pki);

    EVP_PKEY *k = tls_make_key();
    char *enc_key = tls_key_pem_encrypted(k, "secret");
    EVP_PKEY_free(k);
    char *short_cert = truncated(pki.server_cert, 200, "\n-----END CERTIFICATE-----\n");
    char *short_key = truncated(pki.server_key, 100, "\n-----END PRIVATE KEY-----\n");
    char *short_ca = truncated(pki.ca_cert, 200, "\n-----END CERTIFICATE-----\n");
    char *broken_chain = tls_concat(pki.server_cert, short_ca);
    char *junk_after = tls_concat(pki.server_chain, "trailing junk\n");
    char *ca_and_inter = tls_concat(pki.ca_cert, pki.inter_cert);
    /* The traditional ("EC PRIVATE KEY") form of the leaf key. */
    BIO *in = BIO_new_mem_buf(pki.server_key, -1), *out = BIO_new(BIO_s_mem());
    EVP_PKEY *sk = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    ASSERT(sk && PEM_write_bio_PrivateKey_traditional(out, sk, NULL, NULL, 0, NULL, NULL));
    char *trad_key = tls_bio_string(out);
    BIO_free(in);
    EVP_PKEY_free(sk);

    const ctx_case_t cases[] = {
        {.key = pki.server_key, .cert = pki.server_chain},
        {.key = trad_key, .cert = pki.server_chain},
        {.key = "garbage", .cert = pki.server_chain},
        {.key = pki.server_key, .cert = "garbage"},
        {.key = "garbage"},
        {.cert = pki.server_chain},
        {.key = pki.server_key},
        {.key = pki.ca_key, .cert = pki.server_chain},
        {.key = pki.server_cert, .cert = pki.server_chain},
        {.key = enc_key, .passphrase = "secret"},
        {.key = enc_key, .passphrase = "wrong"},
        {.key = enc_key},
        {.key = pki.server_key, .cert = pki.server_chain, .passphrase = "unused"},
        {.key = short_key, .cert = pki.server_chain},
        {.key = pki.server_key, .cert = short_cert},
        {.key = pki.server_key, .cert = broken_chain},
        {.key = pki.server_key, .cert = junk_after},
        {.ca = "garbage"},
        {.ca = short_ca},
        {.ca = ca_and_inter},
        {.ca = pki.ca_cert, .crl = pki.crl},
        {.crl = pki.crl},
        {.crl = "garbage"},
        {.ciphers = "NOPE"},
        {.ciphers = "TLS_AES_128_GCM_SHA256"},
        {.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"},
        {.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:TLS_NOPE"},
        {.ciphers = "HIGH:!aNULL:@SECLEVEL=1"},
        {.min_version = "TLSv1.3", .max_version = "TLSv1.2"},
        {.min_version = "TLSv1.3"},
        {.max_version = "TLSv1.2"},
        {.min_version = "TLSv1", .max_version = "TLSv1.1"},
    };
    size_t n = CNET__ARRAY_SIZE(cases);
    char **lines = calloc(n, sizeof *lines);
    json_t in_json = {0};

    test_set_phase("createSecureContext cases");
    json_lit(&in_json, "[");
    for (size_t i = 0; i < n; i++) {
        const ctx_case_t *c = &cases[i];
        json_comma(&in_json);
        json_lit(&in_json, "{");
        json_kstr(&in_json, "key", c->key);
        json_kstr(&in_json, "cert", c->cert);
        json_kstr(&in_json, "ca", c->ca);
        json_kstr(&in_json, "crl", c->crl);
        json_kstr(&in_json, "passphrase", c->passphrase);
        json_kstr(&in_json, "ciphers", c->ciphers);
        json_kstr(&in_json, "minVersion", c->min_version);
        json_kstr(&in_json, "maxVersion", c->max_version);
        json_lit(&in_json, "}");
        lines[i] = ours(c);
    }
    json_lit(&in_json, "]");
    int diffs = oracle_compare("ctx", in_json.p, lines, n);

    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(in_json.p);
    free(enc_key);
    free(short_cert);
    free(short_key);
    free(short_ca);
    free(broken_chain);
    free(junk_after);
    free(ca_and_inter);
    free(trad_key);
    tls_pki_free(&pki);
    if (diffs)
        TEST_FAIL_("%d case(s) differ from node", diffs);
    return 0;
}
