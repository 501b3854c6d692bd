/* Item 3 of issue 8: port 0 in connect errors; see the .js. */
#include "conformance.h"

static const conf_side_t side_a = {"a", CONF_DATA_TEXT}, side_b = {"b", CONF_DATA_TEXT};

static void on_error(cnet_socket_t *c, const cnet_event_t *ev, void *arg)
{
    conf_log("%s detail %s", ((const conf_side_t *)arg)->name, conf_err_detail(ev->error));
}

static void on_a_close(cnet_socket_t *a, const cnet_event_t *ev, void *arg)
{
    cnet_connect_opts_t o = CNET_CONNECT_OPTS_INIT;
    cnet_socket_t *b;

    o.port = 0;
    o.host = "localhost";
    o.family = 4;
    CONF_OK(cnet_create_connection(NULL, &o, NULL, NULL, &b));
    conf_trace_socket(b, &side_b);
    CONF_OK(cnet_socket_on(b, CNET_EVENT_ERROR, on_error, (void *)&side_b));
}

int main(void)
{
    cnet_socket_t *a;

    conf_deadline(5);
    a = cnet_connect(0, "127.0.0.1", NULL, NULL);
    conf_trace_socket(a, &side_a);
    conf_trace_attempts(a, &side_a);
    CONF_OK(cnet_socket_on(a, CNET_EVENT_ERROR, on_error, (void *)&side_a));
    CONF_OK(cnet_socket_on(a, CNET_EVENT_CLOSE, on_a_close, NULL));
    return cnet_run();
}
