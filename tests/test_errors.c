/*
 * Error codes and event names: the CNET_ERROR_MAP table is consistent
 * (unique values, Node's code strings, messages), system codes are -errno
 * and equal libuv's UV_E* values, and cnet_event_name() gives Node's names.
 */
#include "harness.h"

#include <uv.h>

typedef struct {
    const char *name;
    int value;
    const char *msg;
} err_row_t;

static const err_row_t rows[] = {
#define ROW(name, value, msg) {#name, (value), (msg)},
    CNET_ERROR_MAP(ROW)
#undef ROW
};
#define NROWS (sizeof rows / sizeof rows[0])

static void test_table(void)
{
    test_set_phase("table");
    ASSERT(NROWS > 60);
    for (size_t i = 0; i < NROWS; i++) {
        ASSERT(rows[i].value < 0);
        for (size_t j = i + 1; j < NROWS; j++) {
            if (rows[i].value == rows[j].value)
                TEST_FAIL_("%s and %s share the value %d", rows[i].name, rows[j].name,
                           rows[i].value);
            ASSERT(strcmp(rows[i].name, rows[j].name) != 0);
        }
        ASSERT_STR_EQ(rows[i].name, cnet_err_name(rows[i].value));
        ASSERT_STR_EQ(rows[i].msg, cnet_strerror(rows[i].value));
        ASSERT(cnet_strerror(rows[i].value)[0] != '\0');
    }
}

static void test_errno_values(void)
{
    test_set_phase("errno values");
    /* The enum itself equals -errno. */
#define CHECK_ERRNO(name, value, msg)  \
    ASSERT_EQ(-name, CNET_##name);     \
    ASSERT_EQ(UV_##name, CNET_##name); \
    ASSERT_STR_EQ(#name, cnet_err_name(-name));
    CNET_ERRNO_MAP(CHECK_ERRNO)
#undef CHECK_ERRNO
    ASSERT_EQ(-ECONNREFUSED, CNET_ECONNREFUSED);
    ASSERT_EQ(UV_ECONNREFUSED, CNET_ECONNREFUSED);
    ASSERT_EQ(UV_EOF, CNET_EOF); /* libuv's EOF, Node's 'EOF' */
    ASSERT_STR_EQ("ECONNREFUSED", cnet_err_name(CNET_ECONNREFUSED));
    ASSERT_STR_EQ("ERR_SOCKET_BAD_PORT", cnet_err_name(CNET_ERR_SOCKET_BAD_PORT));
    ASSERT_STR_EQ("ENOTFOUND", cnet_err_name(CNET_ENOTFOUND));
    /* Library codes sit below -5000 (EOF is libuv's -4095). */
#define CHECK_LIB(name, value, msg) ASSERT(CNET_##name == CNET_EOF || CNET_##name < -5000);
    CNET_LIBERR_MAP(CHECK_LIB)
#undef CHECK_LIB
}

static void test_unknown(void)
{
    test_set_phase("unknown");
    ASSERT_STR_EQ("UNKNOWN", cnet_err_name(0));
    ASSERT_STR_EQ("UNKNOWN", cnet_err_name(1));
    ASSERT_STR_EQ("UNKNOWN", cnet_err_name(-4999));
    ASSERT_STR_EQ("UNKNOWN", cnet_err_name(-123456));
    ASSERT_STR_EQ("UNKNOWN", cnet_err_name(CNET_UNKNOWN));
    ASSERT(cnet_strerror(-123456) != NULL && cnet_strerror(-123456)[0]);
    ASSERT(cnet_strerror(0) != NULL && cnet_strerror(0)[0]);
}

static void test_event_names(void)
{
    static const char *const node_names[] = {"lookup",
                                             "connect",
                                             "ready",
                                             "data",
                                             "end",
                                             "finish",
                                             "drain",
                                             "timeout",
                                             "error",
                                             "close",
                                             "listening",
                                             "connection",
                                             "drop",
                                             "frame",
                                             "connectionAttempt",
                                             "connectionAttemptFailed",
                                             "connectionAttemptTimeout",
                                             "secure",
                                             "secureConnect",
                                             "secureConnection",
                                             "tlsClientError",
                                             "session",
                                             "keylog",
                                             "message"};
    test_set_phase("event names");
    ASSERT_EQ(sizeof node_names / sizeof node_names[0], CNET_EVENT__COUNT);
    ASSERT_EQ(0, CNET_EVENT_LOOKUP);
    ASSERT_STR_EQ("data", cnet_event_name(CNET_EVENT_DATA));
    ASSERT_STR_EQ("connection", cnet_event_name(CNET_EVENT_CONNECTION));
    for (int i = 0; i < CNET_EVENT__COUNT; i++)
        ASSERT_STR_EQ(node_names[i], cnet_event_name((cnet_event_type_t)i));
    ASSERT(cnet_event_name(CNET_EVENT__COUNT) == NULL);
    ASSERT(cnet_event_name((cnet_event_type_t)-1) == NULL);
    ASSERT(cnet_event_name((cnet_event_type_t)1000) == NULL);
}

int main(void)
{
    test_watchdog(20);
    test_table();
    test_errno_values();
    test_unknown();
    test_event_names();
    return 0;
}
