/*
 * --ssl: one secure context for the run. A client does not verify the
 * server unless --ssl-verify (ncat's default); --ssl-trustfile replaces the
 * system CAs. A server without --ssl-cert/--ssl-key gets a temporary
 * self-signed certificate made in memory, as ncat makes one: the only
 * OpenSSL cnetcat calls itself, since cnet does not mint certificates.
 */
#include "cnetcat.h"

#include <stdlib.h>
#include <string.h>

#if CNET_HAVE_TLS
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* A P-256 key and a one-year self-signed certificate for "localhost", as PEM. */
static int self_signed(char **key_pem, char **cert_pem, char *fp, size_t fp_size)
{
    EVP_PKEY *pkey = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    X509V3_CTX v3;
    X509_EXTENSION *ext = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int ok = 0;

    if (!pkey || !x || !kb || !cb)
        goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(uv_hrtime() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 365L * 24 * 3600);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
                               -1, 0);
    X509_set_issuer_name(x, name);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    if (!ext || !X509_add_ext(x, ext, -1) || !X509_sign(x, pkey, EVP_sha256()))
        goto out;
    if (!PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cb, x) || !X509_digest(x, EVP_sha256(), md, &mdlen))
        goto out;
    for (unsigned i = 0; i < mdlen && (size_t)i * 3 + 3 < fp_size; i++)
        snprintf(fp + i * 3, 4, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
    char *p;
    long n = BIO_get_mem_data(kb, &p);
    if (!(*key_pem = strndup(p, (size_t)n)))
        goto out;
    n = BIO_get_mem_data(cb, &p);
    if (!(*cert_pem = strndup(p, (size_t)n))) {
        free(*key_pem);
        goto out;
    }
    ok = 1;
out:
    X509_EXTENSION_free(ext);
    BIO_free(kb);
    BIO_free(cb);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return ok ? 0 : -1;
}
#endif

int nc_tls_context(const nc_opts_t *o, cnet_tls_context_t **out)
{
    cnet_tls_context_opts_t to = CNET_TLS_CONTEXT_OPTS_INIT;
    const char *alpn[17] = {0};
    char *alpn_copy = NULL, *key = NULL, *cert = NULL, errmsg[256] = "";
    int err;

    to.ciphers = o->ssl_ciphers;
    to.ca_file = o->ssl_trustfile;
    to.reject_unauthorized = o->ssl_verify ? CNET_TLS_ON : CNET_TLS_OFF;
    if (o->ssl_alpn) {
        int n = 0;
        alpn_copy = strdup(o->ssl_alpn);
        for (char *save = NULL, *t = alpn_copy ? strtok_r(alpn_copy, ",", &save) : NULL;
             t && n < 16; t = strtok_r(NULL, ",", &save))
            alpn[n++] = t;
        to.alpn_protocols = alpn;
    }
    if (o->listen) {
        if (o->ssl_cert || o->ssl_key) {
            if (!o->ssl_cert || !o->ssl_key) {
                nc_log("The --ssl-key and --ssl-cert options must be used together.");
                free(alpn_copy);
                return NC_EXIT_USAGE;
            }
            to.cert_file = o->ssl_cert;
            to.key_file = o->ssl_key;
        } else {
#if CNET_HAVE_TLS
            char fp[3 * EVP_MAX_MD_SIZE + 1] = "";
            if (o->verbose)
                nc_log("Generating a temporary P-256 ECDSA key. Use --ssl-key and --ssl-cert to "
                       "use a permanent one.");
            if (self_signed(&key, &cert, fp, sizeof fp) != 0) {
                nc_log("Failed to generate a temporary certificate.");
                free(alpn_copy);
                return NC_EXIT_USAGE;
            }
            if (o->verbose)
                nc_log("SHA-256 fingerprint: %s", fp);
            to.key = key;
            to.key_len = strlen(key);
            to.cert = cert;
            to.cert_len = strlen(cert);
#endif
        }
        to.request_cert = o->ssl_verify; /* a server with --ssl-verify asks for a client cert */
    } else if (o->ssl_cert && o->ssl_key) {
        to.cert_file = o->ssl_cert; /* a client certificate */
        to.key_file = o->ssl_key;
    }
    err = cnet_tls_context_new(&to, out, errmsg, sizeof errmsg);
    if (err)
        nc_log("TLS: %s.", errmsg[0] ? errmsg : cnet_strerror(err));
    free(key);
    free(cert);
    free(alpn_copy);
    return err ? NC_EXIT_USAGE : 0;
}
