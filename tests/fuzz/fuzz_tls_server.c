/*
 * A cnet TLS server engine against a fuzzed client: raw (the input is the
 * client's bytes, cut where the input says) or mitm (a real OpenSSL client,
 * its records and the engine's mutated in flight). See fuzz_tls.h.
 *
 * Seeds: CNET_FUZZ_TLS_RECORD=tests/fuzz/corpus/tls_server build-fuzz/fuzz_tls_server
 */
#include "fuzz_tls.h"

/* Operation bytes of the mitm mode: 0x40|m mutates the client's next record, m|0x00 the
 * engine's; 0x80|a is an action (0 engine writes, 1 peer writes, 2 engine's close_notify,
 * 3 peer's, 4 key update, 5 renegotiation, 6 resumed connection, 7 tune, 9 deliver all). */
static const fz_scenario_t scenarios[] = {
    FZ_SCENARIO("tls13", 0, ""),
    FZ_SCENARIO("tls12", FZ_F_PEER12, ""),
    FZ_SCENARIO("tls13-lent", FZ_F_LENT, ""),
    FZ_SCENARIO("tls13-clientcert", 1 | FZ_F_PEERCERT, ""),
    FZ_SCENARIO("tls12-clientcert", 1 | FZ_F_PEERCERT | FZ_F_PEER12, ""),
    FZ_SCENARIO("nocert-alert", 1, ""),
    FZ_SCENARIO("tls12-server12", 2, ""),
    FZ_SCENARIO("alpn-list", 3 | FZ_F_PEERALPN, ""),
    FZ_SCENARIO("sni-alpn-hooks", FZ_F_HOOKS | FZ_F_PEERALPN | FZ_F_LENT, ""),
    FZ_SCENARIO("resume13", 0, "\x89\x86"),
    FZ_SCENARIO("resume12", FZ_F_PEER12, "\x89\x86"),
    FZ_SCENARIO("keyupdate", 0, "\x89\x84\x89\x81\x20"),
    FZ_SCENARIO("renegotiate12", FZ_F_PEER12, "\x89\x85\x89"),
    FZ_SCENARIO("close-early", 0, "\x89\x82\x89"),
    FZ_SCENARIO("bigdata", FZ_F_LENT, "\x89\x80\xff\x81\xff\x80\x80\x89"),
    FZ_SCENARIO("split-records", 0, "\x43\x03\x40\x43\x07\x40\x00\x43\x01\x40"),
    FZ_SCENARIO("small-reads", 0, "\x87\x0f\x89\x81\x40\x89\x87\x02"),
    FZ_SCENARIO("flipped-hello", 0, "\x44\x00\x30\x55"),
    FZ_SCENARIO("flipped-data", 0, "\x89\x81\x01\x44\x00\x08\x55"),
};

FZ_TARGET(true, scenarios)
