/*
 * examples/worker_pool driven by clients: the parent hands connections to
 * its workers round-robin (each greets with "worker I\n"), the workers echo
 * every byte, including those sent before the handoff; SIGTERM stops the
 * parent and its workers, with exit code 0.
 */
#include "harness.h"
#include "pair_helpers.h"

#include <sys/wait.h>

#define NWORKERS 3
#define NCLIENTS 7
#define PAYLOAD  (96 * 1024)

typedef struct client {
    cnet_socket_t *s;
    char *got;
    size_t len;
    int closed, had_error;
} client_t;

static void on_data(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    c->got = realloc(c->got, c->len + ev->data.len + 1); /* kept NUL-terminated for sscanf */
    ASSERT(c->got != NULL);
    memcpy(c->got + c->len, ev->data.base, ev->data.len);
    c->len += ev->data.len;
    c->got[c->len] = '\0';
}

static void on_close(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    client_t *c = arg;
    c->closed = 1;
    c->had_error = ev->had_error;
}

static pid_t start_pool(const char *exe, int *port)
{
    int out[2];
    char line[128];
    size_t n = 0;
    pid_t pid;

    ASSERT_OK(pipe(out));
    pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        char workers[8];
        snprintf(workers, sizeof workers, "%d", NWORKERS);
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execl(exe, exe, "--port", "0", "--workers", workers, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    while (n < sizeof line - 1 && read(out[0], line + n, 1) == 1 && line[n] != '\n')
        n++;
    line[n] = '\0';
    close(out[0]);
    ASSERT(sscanf(line, "listening on %d", port) == 1);
    return pid;
}

int main(void)
{
    const char *exe = CNET_TEST_BUILD_DIR "/examples/worker_pool";
    static client_t clients[NCLIENTS];
    cnet_loop_t *loop;
    char *payload = malloc(PAYLOAD), want[32];
    int port, status;
    pid_t pid;

    test_watchdog(30);
    if (access(exe, X_OK) != 0)
        RETURN_SKIP("examples/worker_pool is not built");
    signal(SIGPIPE, SIG_IGN);
    test_set_phase("start the pool");
    pid = start_pool(exe, &port);
    ASSERT_OK(cnet_loop_new(&loop));

    for (int i = 0; i < NCLIENTS; i++) {
        client_t *c = &clients[i];
        size_t greet;
        test_set_phase("a client");
        for (size_t k = 0; k < PAYLOAD; k++)
            payload[k] = (char)(k * 7 + (size_t)i * 13 + (k >> 8));
        ASSERT_OK(cnet_socket_new(loop, NULL, &c->s));
        ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_DATA, on_data, c));
        ASSERT_OK(cnet_socket_on(c->s, CNET_EVENT_CLOSE, on_close, c));
        ASSERT_OK(cnet_socket_connect(c->s, port, "127.0.0.1", NULL, NULL));
        /* Sent at once, before the parent has even accepted: the worker gets it. */
        ASSERT(cnet_socket_write(c->s, payload, PAYLOAD, NULL, NULL) >= 0);
        ASSERT_OK(cnet_socket_end(c->s, NULL, 0, NULL, NULL));
        run_until(loop, &c->closed);
        ASSERT_EQ(0, c->had_error);
        /* Round-robin: client i went to worker i % N. */
        snprintf(want, sizeof want, "worker %d\n", i % NWORKERS);
        greet = strlen(want);
        ASSERT_EQ(greet + PAYLOAD, c->len);
        ASSERT_MEM_EQ(want, c->got, greet);
        ASSERT_MEM_EQ(payload, c->got + greet, PAYLOAD);
        free(c->got);
    }

    test_set_phase("several clients at once");
    {
        client_t many[NWORKERS * 2];
        int seen[NWORKERS] = {0};
        memset(many, 0, sizeof many);
        for (int i = 0; i < NWORKERS * 2; i++) {
            ASSERT_OK(cnet_socket_new(loop, NULL, &many[i].s));
            ASSERT_OK(cnet_socket_on(many[i].s, CNET_EVENT_DATA, on_data, &many[i]));
            ASSERT_OK(cnet_socket_on(many[i].s, CNET_EVENT_CLOSE, on_close, &many[i]));
            ASSERT_OK(cnet_socket_connect(many[i].s, port, "127.0.0.1", NULL, NULL));
            ASSERT_OK(cnet_socket_end(many[i].s, "x", 1, NULL, NULL));
        }
        for (int i = 0; i < NWORKERS * 2; i++) {
            int w;
            run_until(loop, &many[i].closed);
            ASSERT_EQ(0, many[i].had_error);
            ASSERT(many[i].len == strlen("worker 0\n") + 1);
            ASSERT(sscanf(many[i].got, "worker %d\n", &w) == 1 && w >= 0 && w < NWORKERS);
            ASSERT_EQ('x', many[i].got[many[i].len - 1]);
            seen[w]++;
            free(many[i].got);
        }
        for (int w = 0; w < NWORKERS; w++)
            ASSERT_EQ(2, seen[w]); /* each worker got its share */
    }

    test_set_phase("SIGTERM: the pool stops cleanly");
    ASSERT_OK(kill(pid, SIGTERM));
    ASSERT_EQ(pid, waitpid(pid, &status, 0));
    ASSERT(WIFEXITED(status));
    ASSERT_EQ(0, WEXITSTATUS(status));
    ASSERT_OK(cnet_loop_run(loop));
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    free(payload);
    printf("ok\n");
    return 0;
}
