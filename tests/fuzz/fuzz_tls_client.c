/*
 * A cnet TLS client engine against a fuzzed server: raw (the input is the
 * server's bytes, cut where the input says, after the engine's ClientHello)
 * or mitm (a real OpenSSL server, its records and the engine's mutated in
 * flight). See fuzz_tls.h.
 *
 * Seeds: CNET_FUZZ_TLS_RECORD=tests/fuzz/corpus/tls_client build-fuzz/fuzz_tls_client
 */
#include "fuzz_tls.h"

/* Operation bytes: as in fuzz_tls_server.c. Variants: 0 verifying, 1 TLS 1.2 at most,
 * 2 with a client certificate, 3 unverified with ALPN. */
static const fz_scenario_t scenarios[] = {
    FZ_SCENARIO("tls13", 0, ""),
    FZ_SCENARIO("tls12", FZ_F_PEER12, ""),
    FZ_SCENARIO("tls12-client12", 1 | FZ_F_LENT, ""),
    FZ_SCENARIO("tls13-clientcert", 2 | FZ_F_PEERCERT, ""),
    FZ_SCENARIO("tls12-clientcert", 2 | FZ_F_PEERCERT | FZ_F_PEER12, ""),
    FZ_SCENARIO("asked-nocert", FZ_F_PEERCERT, ""),
    FZ_SCENARIO("unverified-alpn", 3, ""),
    FZ_SCENARIO("identity-hook", FZ_F_HOOKS | FZ_F_LENT, ""),
    FZ_SCENARIO("resume13", 0, "\x89\x86"),
    FZ_SCENARIO("resume12", 1, "\x89\x86"),
    FZ_SCENARIO("keyupdate", 0, "\x89\x84\x89\x81\x20"),
    FZ_SCENARIO("renegotiate12", FZ_F_PEER12, "\x89\x85\x89"),
    FZ_SCENARIO("close-early", 0, "\x89\x82\x89"),
    FZ_SCENARIO("bigdata", FZ_F_LENT, "\x89\x80\xff\x81\xff\x81\x80\x89"),
    FZ_SCENARIO("split-records", 0, "\x43\x03\x40\x43\x07\x40\x43\x01\x40"),
    FZ_SCENARIO("small-reads", 0, "\x87\x0f\x89\x81\x40\x89\x87\x02"),
    FZ_SCENARIO("flipped-flight", 0, "\x00\x40\x40\x44\x00\x20\x55"),
    FZ_SCENARIO("flipped-data", 0, "\x89\x81\x01\x44\x00\x08\x55"),
};

FZ_TARGET(false, scenarios)
