/* IP addresses as node's SocketAddress and BlockList see them (codec layer). */
#ifndef CNET_CODEC_SOCKETADDRESS_H
#define CNET_CODEC_SOCKETADDRESS_H

#include "cnet.h"

/* 4 or 6 for a public family argument (0 meaning 4), else CNET_ERR_INVALID_ARG_VALUE. */
int cnet__sockaddress_family(int family);
/* @p address of @p family (4 or 6) into network-order bytes (IPv4: the first 4). */
int cnet__sockaddress_bytes(int family, const char *address, unsigned char bytes[16],
                            uint32_t *scope_id);
/* The text node shows for those bytes. */
int cnet__sockaddress_text(int family, const unsigned char bytes[16], char *buf, size_t size);

/* Checks a peer's address from the kernel (AF_INET / AF_INET6; anything else: false). */
struct sockaddr;
bool cnet__blocklist_check_sockaddr(const cnet_blocklist_t *bl, const struct sockaddr *sa);

#endif
