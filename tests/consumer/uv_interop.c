/* Compile-only check: the optional interop header stands on its own. */
#include <cnet/uv.h>

uv_loop_t *(*const consumer_get_uv)(cnet_loop_t *) = cnet_loop_get_uv;
int (*const consumer_from_uv)(uv_loop_t *, cnet_loop_t **) = cnet_loop_from_uv;
