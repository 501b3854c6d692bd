/*
 * One write of more than 4 GiB arrives whole and in order. uv_buf_init()
 * takes an unsigned int, so a length of 2^32 or more used to be cut to
 * len mod 2^32 (here: 65541 bytes) while the write callback reported success.
 *
 * The 4 GiB buffer costs 1 MiB of memory: one small memfd holding a pattern,
 * mapped again and again side by side (MAP_POPULATE, so the send does not
 * fault page by page). Its size, 257 pages, does not divide 2^32, so a byte
 * sent from the wrong offset (a length cut at 2^32, a wrapped counter) shows
 * as a wrong byte. cnet queues it whole (written while connecting) with
 * CNET_BUF_STATIC (no copy) and sends it over loopback; a plain reader thread checks every byte and
 * the count. Skips if the mappings are refused.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>

#define TOTAL    (((size_t)1 << 32) + 65541) /* past 2^32 */
#define PAT_SIZE ((size_t)257 * 4096)        /* does not divide 2^32 */

static unsigned char *pat;

static unsigned char pat_byte(size_t i)
{
    return (unsigned char)(i * 7 + (i >> 13) + 1);
}

/* ---- the reader: a plain socket in a thread, so the check costs the loop nothing -- */

typedef struct reader {
    int listen_fd;
    uint64_t got;
    uint64_t first_bad; /* offset of the first wrong byte, or UINT64_MAX */
} reader_t;

static void *reader_main(void *arg)
{
    reader_t *r = arg;
    size_t cap = 1 << 20;
    unsigned char *buf = malloc(cap);
    int fd = accept(r->listen_fd, NULL, NULL);
    ssize_t n;

    ASSERT(buf != NULL && fd >= 0);
    r->first_bad = UINT64_MAX;
    while ((n = read(fd, buf, cap)) > 0) {
        size_t done = 0;
        while (done < (size_t)n) {
            size_t at = (size_t)((r->got + done) % PAT_SIZE), k = (size_t)n - done;
            if (k > PAT_SIZE - at)
                k = PAT_SIZE - at;
            if (r->first_bad == UINT64_MAX && memcmp(buf + done, pat + at, k) != 0) {
                for (size_t i = 0; i < k; i++)
                    if (buf[done + i] != pat[at + i]) {
                        r->first_bad = r->got + done + i;
                        break;
                    }
            }
            done += k;
        }
        r->got += (uint64_t)n;
    }
    ASSERT_EQ(0, n);
    close(fd);
    free(buf);
    return NULL;
}

/* ---- the writer: cnet --------------------------------------------------------- */

static unsigned char *big;
static int write_status = 1, closed, wrote;

static void write_done(cnet_socket_t *s, int status, void *arg)
{
    (void)s;
    (void)arg;
    write_status = status;
}

static void on_event(cnet_socket_t *s, const cnet_event_t *ev, void *arg)
{
    (void)s;
    (void)arg;
    if (ev->type == CNET_EVENT_CONNECT) {
        test_set_phase("transfer");
    } else if (ev->type == CNET_EVENT_ERROR) {
        TEST_FAIL_("client error: %s", ev->error->message);
    } else if (ev->type == CNET_EVENT_CLOSE) {
        closed = 1;
    }
}

/* The pattern file mapped side by side over TOTAL bytes; NULL when refused. */
static unsigned char *map_big(void)
{
    size_t span = (TOTAL + PAT_SIZE - 1) / PAT_SIZE * PAT_SIZE;
    int fd = memfd_create("cnet-test-4g", MFD_CLOEXEC);
    unsigned char *m;

    if (fd < 0 || ftruncate(fd, (off_t)PAT_SIZE) != 0)
        return NULL;
    pat = mmap(NULL, PAT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (pat == MAP_FAILED)
        return NULL;
    for (size_t i = 0; i < PAT_SIZE; i++)
        pat[i] = pat_byte(i);
    /* Reserve the span, then lay the file over it again and again. */
    m = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    for (size_t off = 0; off < span; off += PAT_SIZE)
        if (mmap(m + off, PAT_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0) ==
            MAP_FAILED)
            return NULL;
    close(fd);
    return m;
}

int main(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    reader_t r = {0};
    pthread_t th;
    cnet_loop_t *loop;
    cnet_socket_t *s;
    uint64_t t0;

    /* 4 GiB through memcheck takes far longer than any budget; the test is
     * about lengths, not memory errors, and runs natively and under ASan. */
    if (test_timeout_multiplier() > 1.0)
        RETURN_SKIP("4 GiB under a slowed runner (CNET_TEST_TIMEOUT_MULTIPLIER > 1): run natively");

    test_watchdog(240);
    test_set_phase("map");
    big = map_big();
    if (!big)
        RETURN_SKIP("the 4 GiB view of a memfd could not be mapped");

    r.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(r.listen_fd >= 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(0, bind(r.listen_fd, (struct sockaddr *)&sa, sizeof sa));
    ASSERT_EQ(0, listen(r.listen_fd, 1));
    ASSERT_EQ(0, getsockname(r.listen_fd, (struct sockaddr *)&sa, &len));
    ASSERT_EQ(0, pthread_create(&th, NULL, reader_main, &r));

    ASSERT_OK(cnet_loop_new(&loop));
    ASSERT_OK(cnet_socket_new(loop, NULL, &s));
    for (int t = CNET_EVENT_CONNECT; t <= CNET_EVENT_CLOSE; t++)
        ASSERT_OK(cnet_socket_on(s, (cnet_event_type_t)t, on_event, NULL));
    ASSERT_OK(cnet_socket_connect(s, ntohs(sa.sin_port), "127.0.0.1", NULL, NULL));
    /* Written while connecting, so all of it is queued as one request (the
     * fast path would send a few MiB first and leave less than 2^32). */
    {
        cnet_buf_t buf = {big, TOTAL};
        ASSERT_EQ(1, cnet_socket_write_ex(s, &buf, 1, CNET_BUF_STATIC, write_done, NULL));
        ASSERT_EQ(TOTAL, cnet_socket_bytes_written(s));
        ASSERT_EQ(TOTAL, cnet_socket_writable_length(s));
        ASSERT_OK(cnet_socket_end(s, NULL, 0, NULL, NULL));
        wrote = 1;
    }
    t0 = cnet_loop_now(loop);
    ASSERT_OK(cnet_loop_run(loop)); /* until 'close': our FIN, then the reader's */
    ASSERT_EQ(0, pthread_join(th, NULL));
    fprintf(stderr, "4 GiB + 65541 bytes in %.1f s\n", (double)(cnet_loop_now(loop) - t0) / 1000);
    ASSERT(wrote && closed);
    ASSERT_EQ(0, write_status);
    ASSERT_EQ(TOTAL, r.got); /* was TOTAL mod 2^32 = 65541 */
    if (r.first_bad != UINT64_MAX)
        TEST_FAIL_("byte %" PRIu64 " is wrong", r.first_bad);
    ASSERT_EQ(0, cnet_loop_alive(loop));
    ASSERT_OK(cnet_loop_close(loop));
    close(r.listen_fd);
    return 0;
}
