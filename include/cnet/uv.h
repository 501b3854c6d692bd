/*
 * cnet/uv.h: optional libuv interop. The only public header that includes
 * uv.h; include it to run cnet inside an existing libuv program. Like uv.h
 * itself, it needs POSIX types: compile with -std=gnu11, or define
 * _POSIX_C_SOURCE 200809L (or _GNU_SOURCE) before including it with -std=c11.
 */
#ifndef CNET_UV_H
#define CNET_UV_H

#include <cnet.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Adopts an existing, initialised libuv loop: cnet objects created on the
 * returned loop run when you run @p uv yourself (uv_run) or with
 * cnet_loop_run(). cnet_loop_close() frees cnet's state and hands @p uv back
 * still open (it runs @p uv briefly, without blocking, to finish closing
 * cnet's own handles). If you call uv_run() yourself, block or ignore SIGPIPE
 * in that thread; cnet_loop_run() does it for you.
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_loop_from_uv(uv_loop_t *uv, cnet_loop_t **out);

/** The libuv loop under @p loop (for adding your own handles), or NULL for NULL. */
CNET_EXTERN uv_loop_t *cnet_loop_get_uv(cnet_loop_t *loop);

#ifdef __cplusplus
}
#endif
#endif
