/* Item 3 of issue 8; the same steps as server_address_after_close.js. */
#include "conformance.h"

static void show(const char *side, const char *when, cnet_server_t *srv)
{
    cnet_address_t a;
    if (cnet_server_address(srv, &a) != 0)
        conf_log("%s %s null", side, when);
    else if (a.family == 0)
        conf_log("%s %s %s", side, when, a.address);
    else
        conf_log("%s %s %s IPv%d", side, when, a.address, a.family);
}

static void u_tcp_closed(cnet_server_t *u, const cnet_event_t *ev, void *arg)
{
    show("unix", "tcp-closed", u);
}

static void u_tcp_listening(cnet_server_t *u, const cnet_event_t *ev, void *arg)
{
    show("unix", "tcp-listening", u);
    CONF_OK(cnet_server_close(u, u_tcp_closed, NULL));
}

static void u_closed(cnet_server_t *u, const cnet_event_t *ev, void *arg)
{
    show("unix", "closed", u);
    CONF_OK(cnet_server_listen(u, 0, "127.0.0.1", u_tcp_listening, NULL));
}

static void u_listening(cnet_server_t *u, const cnet_event_t *ev, void *arg)
{
    show("unix", "listening", u);
    CONF_OK(cnet_server_close(u, u_closed, NULL));
    show("unix", "closing", u);
}

static void t_closed(cnet_server_t *t, const cnet_event_t *ev, void *arg)
{
    cnet_server_t *u;
    show("tcp", "closed", t);
    CONF_OK(cnet_server_new(NULL, NULL, &u));
    CONF_OK(cnet_server_listen_path(u, "addr.sock", u_listening, NULL));
    show("unix", "after-listen", u);
}

static void t_listening(cnet_server_t *t, const cnet_event_t *ev, void *arg)
{
    show("tcp", "listening", t);
    CONF_OK(cnet_server_close(t, t_closed, NULL));
    show("tcp", "closing", t);
}

int main(void)
{
    cnet_server_t *t;
    conf_deadline(5);
    CONF_OK(cnet_server_new(NULL, NULL, &t));
    CONF_OK(cnet_server_listen(t, 0, "127.0.0.1", t_listening, NULL));
    return cnet_run();
}
