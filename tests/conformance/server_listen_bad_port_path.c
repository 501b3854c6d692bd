/* Item 6 of issue 8; the same steps as server_listen_bad_port_path.js. */
#include "conformance.h"

static const int ports[] = {-1, 65536, 70000};
static size_t cur;

static void attempt(void);

static void on_closed(cnet_server_t *srv, const cnet_event_t *ev, void *arg)
{
    cur++;
    attempt();
}

static void attempt(void)
{
    cnet_listen_opts_t o = CNET_LISTEN_OPTS_INIT;
    cnet_server_t *srv;
    int err;

    if (cur == sizeof ports / sizeof ports[0]) {
        conf_log("done");
        return;
    }
    o.port = ports[cur];
    o.path = "bad-port.sock";
    CONF_OK(cnet_server_new(NULL, NULL, &srv));
    err = cnet_server_listen_opts(srv, &o, NULL, NULL);
    if (err == 0) {
        conf_log("%d listen ok %s", ports[cur], cnet_server_is_listening(srv) ? "true" : "false");
        CONF_OK(cnet_server_close(srv, on_closed, NULL));
        return;
    }
    conf_log("%d listen fails %s %s", ports[cur], cnet_err_name(err),
             cnet_server_is_listening(srv) ? "true" : "false");
    cnet_server_destroy(srv); /* never listened: 'close', then freed */
    cur++;
    attempt();
}

int main(void)
{
    conf_deadline(5);
    attempt();
    return cnet_run();
}
