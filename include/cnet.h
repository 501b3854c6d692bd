/*
 * cnet.h: Node.js `net` semantics for C, on libuv.
 *
 * This is the one public header and the reference documentation. Map:
 *   1. Conventions: errors, threading, lifetime (read these first)
 *   2. Error codes (one X-macro table)
 *   3. Events and the event struct
 *   4. Loop
 *   5. Servers (net.Server)
 *   6. Sockets (net.Socket): connect, write, end, destroy, flow control
 *   7. Encodings and framing helpers
 *   8. Addresses (net.isIP, ...)
 *   9. Allocator and logging
 *  10. TLS: secure contexts, certificates, server identity (tls module)
 *  11. Cancellation (AbortController, AbortSignal)
 *  12. TLS sockets
 *  13. IPC channels: messages, and sockets and servers passed between processes
 *
 * 1. CONVENTIONS
 *
 * Errors. Functions that act return int: 0 on success, a negative CNET_E*
 * code on failure. The codes for system errors are -errno (the same values
 * libuv uses), the library's own codes sit below -5000. cnet_err_name() gives
 * Node's `err.code` string ("ECONNREFUSED", "ERR_SOCKET_BAD_PORT"),
 * cnet_strerror() a message. A call that returns an error schedules nothing:
 * no callback and no event will fire for it. Errors of the operation itself
 * (a refused connection, a failed DNS lookup, EADDRINUSE) are not returned:
 * the call returns 0 and the error arrives later as an 'error' event, exactly
 * as in Node.
 *
 * Callbacks never run inside the call that caused them. Any public function
 * may be called from inside any callback, including destroying the object
 * whose callback is running.
 *
 * Threading. Every object belongs to the thread that runs its loop and must
 * only be touched from that thread. Each thread has its own default loop.
 * The only functions that may be called from any thread are cnet_loop_post()
 * (run a function on a loop's thread), cnet_loop_retain()/cnet_loop_release()
 * and cnet_tls_context_retain()/cnet_tls_context_release(); plus, from a
 * thread that owns no worker, cnet_workers_start()/cnet_workers_stop()
 * (many loops on many cores serving one port, section 4). Everything else,
 * on a given loop's objects, from that loop's thread.
 *
 * Lifetime. The library allocates every object and frees it itself: a socket
 * or server stays valid until the listeners of its 'close' event have
 * returned, then it is freed. To keep a pointer valid longer (to reconnect a
 * closed socket, or because you stored it), call cnet_socket_retain() and
 * later cnet_socket_release(). Calls on a closed, retained object return an
 * error (CNET_ERR_SOCKET_CLOSED, CNET_ERR_STREAM_DESTROYED); they never crash.
 *
 * Borrowed memory. Bytes and strings inside an event are valid only until the
 * listener returns. The library never keeps a pointer you pass unless the
 * function says so (write copies by default).
 *
 * Options structs and the ABI. Every options struct (cnet_*_opts_t) begins
 * with `size`, which its CNET_*_OPTS_INIT macro sets to the struct's size in
 * the header the program was built with; always start from that macro. The
 * library reads only the first `size` bytes, so a program built against an
 * older cnet.h keeps working with a newer libcnet.so.0: fields it does not
 * know take their defaults, and every field's zero value is its default.
 * A program built against a newer header on an older library works as long
 * as it leaves the newer fields zero; otherwise the call fails with
 * CNET_ERR_INVALID_ARG_VALUE rather than ignoring what was asked (the rule
 * of Linux's copy_struct_from_user). A size of 0 (a struct zeroed without the
 * macro) or one smaller than the first release's layout is
 * CNET_ERR_INVALID_ARG_VALUE. Structs the library fills or lends to you
 * (cnet_event_t, cnet_error_t) only ever grow at the end; cnet_address_t and
 * cnet_buf_t never change.
 *
 * SIGPIPE. cnet never raises SIGPIPE and never changes signal handlers: its
 * own writes use MSG_NOSIGNAL, and cnet_loop_run() blocks SIGPIPE in the
 * running thread only, discarding any SIGPIPE its writes cause.
 */
#ifndef CNET_H
#define CNET_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cnet/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CNET_EXTERN __attribute__((visibility("default")))
#else
#define CNET_EXTERN
#endif

/* The initialiser of every options struct: its size, every other field zero.
 * Designated in C, so -Wextra's missing-field-initializers stays quiet. */
#ifdef __cplusplus
#define CNET__OPTS_INIT(type) \
    {                         \
        sizeof(type)          \
    }
#else
#define CNET__OPTS_INIT(type) \
    {                         \
        .size = sizeof(type)  \
    }
#endif

/* Opaque handles. */
typedef struct cnet_loop_s cnet_loop_t;
typedef struct cnet_socket_s cnet_socket_t;
typedef struct cnet_server_s cnet_server_t;
typedef struct cnet_abort_controller_s cnet_abort_controller_t; /* section 11 */
typedef struct cnet_abort_signal_s cnet_abort_signal_t;
typedef struct cnet_blocklist_s cnet_blocklist_t; /* section 8 */

/* Frees a user pointer handed to the library (listener args, zero-copy buffers). */
typedef void (*cnet_free_fn)(void *ptr);

/* ------------------------------------------------------------------------
 * 2. ERROR CODES
 *
 * Adding a code? Add it here only: the enum, cnet_err_name() and
 * cnet_strerror() are generated from this table, and docs/errors.md lists it.
 * ------------------------------------------------------------------------ */

/* System errors: value is -errno, as in libuv and Node's err.errno. */
#define CNET_ERRNO_MAP(X)                                              \
    X(EACCES, -EACCES, "permission denied")                            \
    X(EADDRINUSE, -EADDRINUSE, "address already in use")               \
    X(EADDRNOTAVAIL, -EADDRNOTAVAIL, "address not available")          \
    X(EAFNOSUPPORT, -EAFNOSUPPORT, "address family not supported")     \
    X(EAGAIN, -EAGAIN, "resource temporarily unavailable")             \
    X(EALREADY, -EALREADY, "connection already in progress")           \
    X(EBADF, -EBADF, "bad file descriptor")                            \
    X(EBUSY, -EBUSY, "resource busy or locked")                        \
    X(ECANCELED, -ECANCELED, "operation canceled")                     \
    X(ECONNABORTED, -ECONNABORTED, "software caused connection abort") \
    X(ECONNREFUSED, -ECONNREFUSED, "connection refused")               \
    X(ECONNRESET, -ECONNRESET, "connection reset by peer")             \
    X(EEXIST, -EEXIST, "file already exists")                          \
    X(EHOSTUNREACH, -EHOSTUNREACH, "host is unreachable")              \
    X(EINTR, -EINTR, "interrupted system call")                        \
    X(EINVAL, -EINVAL, "invalid argument")                             \
    X(EIO, -EIO, "i/o error")                                          \
    X(EISDIR, -EISDIR, "illegal operation on a directory")             \
    X(EISCONN, -EISCONN, "socket is already connected")                \
    X(EMFILE, -EMFILE, "too many open files")                          \
    X(EMSGSIZE, -EMSGSIZE, "message too long")                         \
    X(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                    \
    X(ENETDOWN, -ENETDOWN, "network is down")                          \
    X(ENETUNREACH, -ENETUNREACH, "network is unreachable")             \
    X(ENFILE, -ENFILE, "file table overflow")                          \
    X(ENOBUFS, -ENOBUFS, "no buffer space available")                  \
    X(ENOENT, -ENOENT, "no such file or directory")                    \
    X(ENOMEM, -ENOMEM, "not enough memory")                            \
    X(ENOSPC, -ENOSPC, "no space left on device")                      \
    X(ENOSYS, -ENOSYS, "function not implemented")                     \
    X(ENOTCONN, -ENOTCONN, "socket is not connected")                  \
    X(ENOTDIR, -ENOTDIR, "not a directory")                            \
    X(ENOTSOCK, -ENOTSOCK, "socket operation on non-socket")           \
    X(ENOTSUP, -ENOTSUP, "operation not supported on socket")          \
    X(EPERM, -EPERM, "operation not permitted")                        \
    X(EPIPE, -EPIPE, "broken pipe")                                    \
    X(EPROTO, -EPROTO, "protocol error")                               \
    X(EPROTONOSUPPORT, -EPROTONOSUPPORT, "protocol not supported")     \
    X(ETIMEDOUT, -ETIMEDOUT, "connection timed out")

/* DNS and library errors: names are Node's err.code values. */
#define CNET_LIBERR_MAP(X)                                                             \
    X(EOF, -4095, "end of file")                                                       \
    X(ENOTFOUND, -5001, "host name not found")                                         \
    X(EAI_AGAIN, -5002, "temporary failure in name resolution")                        \
    X(EAI_FAIL, -5003, "permanent failure in name resolution")                         \
    X(EAI_FAMILY, -5004, "address family not supported by resolver")                   \
    X(EAI_MEMORY, -5005, "out of memory in resolver")                                  \
    X(EAI_SERVICE, -5006, "service not available for socket type")                     \
    X(EAI_BADFLAGS, -5007, "bad resolver flags")                                       \
    X(ERR_INVALID_ARG_TYPE, -5100, "an argument is NULL or of the wrong kind")         \
    X(ERR_INVALID_ARG_VALUE, -5101, "an argument has an invalid value")                \
    X(ERR_OUT_OF_RANGE, -5102, "a value is out of range")                              \
    X(ERR_MISSING_ARGS, -5103, "a required argument is missing")                       \
    X(ERR_MULTIPLE_CALLBACK, -5104, "Callback called multiple times")                  \
    X(ERR_SOCKET_BAD_PORT, -5110, "Port should be >= 0 and < 65536")                   \
    X(ERR_INVALID_IP_ADDRESS, -5111, "Invalid IP address")                             \
    X(ERR_SOCKET_CLOSED, -5112, "Socket is closed")                                    \
    X(ERR_SOCKET_CONNECTING, -5113, "socket is already connecting or connected")       \
    X(ERR_SOCKET_CLOSED_BEFORE_CONNECTION, -5114,                                      \
      "Socket closed before the connection was established")                           \
    X(ERR_INVALID_HANDLE_TYPE, -5115, "This handle type cannot be sent")               \
    X(ERR_INVALID_ADDRESS_FAMILY, -5116, "Invalid address family")                     \
    X(ERR_SOCKET_CONNECTION_TIMEOUT, -5117, "Socket connection timeout")               \
    X(ERR_INVALID_ADDRESS, -5118, "Invalid socket address")                            \
    X(ERR_INVALID_FD_TYPE, -5119, "Unsupported fd type")                               \
    X(ERR_STREAM_WRITE_AFTER_END, -5120, "write after end")                            \
    X(ERR_STREAM_DESTROYED, -5121, "Cannot call write after a stream was destroyed")   \
    X(ERR_STREAM_PREMATURE_CLOSE, -5122, "Premature close")                            \
    X(ERR_STREAM_ALREADY_PIPED, -5123, "stream is already piped")                      \
    X(ERR_STREAM_NULL_VALUES, -5124, "May not write null values to stream")            \
    X(ERR_STREAM_ALREADY_FINISHED, -5125,                                              \
      "Cannot call end after a stream "                                                \
      "was finished")                                                                  \
    X(ERR_SERVER_NOT_RUNNING, -5130, "Server is not running.")                         \
    X(ERR_SERVER_ALREADY_LISTEN, -5131,                                                \
      "Listen method has been called more than once without closing.")                 \
    X(ERR_UNKNOWN_ENCODING, -5140, "Unknown encoding")                                 \
    X(ERR_FRAME_TOO_LARGE, -5150, "frame exceeds the maximum size")                    \
    X(ERR_LINE_TOO_LONG, -5151, "line exceeds the maximum length")                     \
    X(ERR_LOOP_BUSY, -5160, "loop still has objects or handles")                       \
    X(ERR_WRONG_THREAD, -5161, "object used from a thread that does not own its loop") \
    X(ERR_LOOP_CLOSED, -5162, "the loop is closed")                                    \
    X(ABORT_ERR, -5170, "The operation was aborted")                                   \
    X(ERR_IPC_CHANNEL_CLOSED, -5190, "Channel closed")                                 \
    X(ERR_IPC_NO_HANDLES, -5191, "This channel cannot pass handles (not in IPC mode)") \
    X(ERR_CHILD_CLOSED_BEFORE_REPLY, -5192, "Child closed before reply received")      \
    X(UNKNOWN, -5999, "unknown error")

/*
 * TLS errors (since 0.3), -5200 to -5399, named as node names them.
 * Certificate verification results: OpenSSL's X509_V_ERR_* names without the
 * prefix (node's err.code and socket.authorizationError), OpenSSL's messages.
 * A result node does not name is UNSPECIFIED, with OpenSSL's own message.
 */
#define CNET_TLS_VERIFY_ERR_MAP(X)                                                            \
    X(UNABLE_TO_GET_ISSUER_CERT, -5200, "unable to get issuer certificate")                   \
    X(UNABLE_TO_GET_CRL, -5201, "unable to get certificate CRL")                              \
    X(UNABLE_TO_DECRYPT_CERT_SIGNATURE, -5202, "unable to decrypt certificate's signature")   \
    X(UNABLE_TO_DECRYPT_CRL_SIGNATURE, -5203, "unable to decrypt CRL's signature")            \
    X(UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY, -5204, "unable to decode issuer public key")        \
    X(CERT_SIGNATURE_FAILURE, -5205, "certificate signature failure")                         \
    X(CRL_SIGNATURE_FAILURE, -5206, "CRL signature failure")                                  \
    X(CERT_NOT_YET_VALID, -5207, "certificate is not yet valid")                              \
    X(CERT_HAS_EXPIRED, -5208, "certificate has expired")                                     \
    X(CRL_NOT_YET_VALID, -5209, "CRL is not yet valid")                                       \
    X(CRL_HAS_EXPIRED, -5210, "CRL has expired")                                              \
    X(ERROR_IN_CERT_NOT_BEFORE_FIELD, -5211, "format error in certificate's notBefore field") \
    X(ERROR_IN_CERT_NOT_AFTER_FIELD, -5212, "format error in certificate's notAfter field")   \
    X(ERROR_IN_CRL_LAST_UPDATE_FIELD, -5213, "format error in CRL's lastUpdate field")        \
    X(ERROR_IN_CRL_NEXT_UPDATE_FIELD, -5214, "format error in CRL's nextUpdate field")        \
    X(OUT_OF_MEM, -5215, "out of memory")                                                     \
    X(DEPTH_ZERO_SELF_SIGNED_CERT, -5216, "self-signed certificate")                          \
    X(SELF_SIGNED_CERT_IN_CHAIN, -5217, "self-signed certificate in certificate chain")       \
    X(UNABLE_TO_GET_ISSUER_CERT_LOCALLY, -5218, "unable to get local issuer certificate")     \
    X(UNABLE_TO_VERIFY_LEAF_SIGNATURE, -5219, "unable to verify the first certificate")       \
    X(CERT_CHAIN_TOO_LONG, -5220, "certificate chain too long")                               \
    X(CERT_REVOKED, -5221, "certificate revoked")                                             \
    X(INVALID_CA, -5222, "invalid CA certificate")                                            \
    X(PATH_LENGTH_EXCEEDED, -5223, "path length constraint exceeded")                         \
    X(INVALID_PURPOSE, -5224, "unsuitable certificate purpose")                               \
    X(CERT_UNTRUSTED, -5225, "certificate not trusted")                                       \
    X(CERT_REJECTED, -5226, "certificate rejected")                                           \
    X(HOSTNAME_MISMATCH, -5227, "hostname mismatch")                                          \
    X(UNSPECIFIED, -5228, "unspecified certificate verification error")

/*
 * OpenSSL reasons, named by node's rule: the reason string upper-cased with
 * '_' for ' ', after "ERR_SSL_" for errors of a TLS connection, and after
 * "ERR_OSSL_<LIB>_" (no <LIB>_ for libraries node does not name) for errors
 * of loading keys and certificates (tls.createSecureContext). The message
 * here is the reason; the error's message is OpenSSL's full text.
 */
#define CNET_TLS_OSSL_ERR_MAP(X)                                                                   \
    X(ERR_SSL_WRONG_VERSION_NUMBER, -5230, "wrong version number")                                 \
    X(ERR_SSL_HTTP_REQUEST, -5231, "http request")                                                 \
    X(ERR_SSL_HTTPS_PROXY_REQUEST, -5232, "https proxy request")                                   \
    X(ERR_SSL_UNSUPPORTED_PROTOCOL, -5233, "unsupported protocol")                                 \
    X(ERR_SSL_NO_PROTOCOLS_AVAILABLE, -5234, "no protocols available")                             \
    X(ERR_SSL_VERSION_TOO_LOW, -5235, "version too low")                                           \
    X(ERR_SSL_VERSION_TOO_HIGH, -5236, "version too high")                                         \
    X(ERR_SSL_UNKNOWN_PROTOCOL, -5237, "unknown protocol")                                         \
    X(ERR_SSL_UNSUPPORTED_SSL_VERSION, -5238, "unsupported ssl version")                           \
    X(ERR_SSL_WRONG_SSL_VERSION, -5239, "wrong ssl version")                                       \
    X(ERR_SSL_PACKET_LENGTH_TOO_LONG, -5240, "packet length too long")                             \
    X(ERR_SSL_RECORD_LENGTH_MISMATCH, -5241, "record length mismatch")                             \
    X(ERR_SSL_ENCRYPTED_LENGTH_TOO_LONG, -5242, "encrypted length too long")                       \
    X(ERR_SSL_DATA_LENGTH_TOO_LONG, -5243, "data length too long")                                 \
    X(ERR_SSL_BAD_LENGTH, -5244, "bad length")                                                     \
    X(ERR_SSL_LENGTH_MISMATCH, -5245, "length mismatch")                                           \
    X(ERR_SSL_LENGTH_TOO_SHORT, -5246, "length too short")                                         \
    X(ERR_SSL_LENGTH_TOO_LONG, -5247, "length too long")                                           \
    X(ERR_SSL_BAD_PACKET_LENGTH, -5248, "bad packet length")                                       \
    X(ERR_SSL_BAD_PACKET, -5249, "bad packet")                                                     \
    X(ERR_SSL_BAD_RECORD_TYPE, -5250, "bad record type")                                           \
    X(ERR_SSL_RECORD_TOO_SMALL, -5251, "record too small")                                         \
    X(ERR_SSL_DECRYPTION_FAILED, -5252, "decryption failed")                                       \
    X(ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC, -5253, "decryption failed or bad record mac")   \
    X(ERR_SSL_BLOCK_CIPHER_PAD_IS_WRONG, -5254, "block cipher pad is wrong")                       \
    X(ERR_SSL_UNEXPECTED_MESSAGE, -5255, "unexpected message")                                     \
    X(ERR_SSL_UNEXPECTED_RECORD, -5256, "unexpected record")                                       \
    X(ERR_SSL_UNEXPECTED_EOF_WHILE_READING, -5257, "unexpected eof while reading")                 \
    X(ERR_SSL_UNEXPECTED_CCS_MESSAGE, -5258, "unexpected ccs message")                             \
    X(ERR_SSL_EXCESSIVE_MESSAGE_SIZE, -5259, "excessive message size")                             \
    X(ERR_SSL_EXTRA_DATA_IN_MESSAGE, -5260, "extra data in message")                               \
    X(ERR_SSL_APPLICATION_DATA_AFTER_CLOSE_NOTIFY, -5261, "application data after close notify")   \
    X(ERR_SSL_MIXED_HANDSHAKE_AND_NON_HANDSHAKE_DATA, -5262,                                       \
      "mixed handshake and non handshake data")                                                    \
    X(ERR_SSL_NOT_ON_RECORD_BOUNDARY, -5263, "not on record boundary")                             \
    X(ERR_SSL_PROTOCOL_IS_SHUTDOWN, -5264, "protocol is shutdown")                                 \
    X(ERR_SSL_SHUTDOWN_WHILE_IN_INIT, -5265, "shutdown while in init")                             \
    X(ERR_SSL_UNINITIALIZED, -5266, "uninitialized")                                               \
    X(ERR_SSL_STILL_IN_INIT, -5267, "still in init")                                               \
    X(ERR_SSL_BAD_HANDSHAKE_STATE, -5268, "bad handshake state")                                   \
    X(ERR_SSL_NO_SHARED_CIPHER, -5269, "no shared cipher")                                         \
    X(ERR_SSL_NO_CIPHERS_AVAILABLE, -5270, "no ciphers available")                                 \
    X(ERR_SSL_NO_CIPHER_MATCH, -5271, "no cipher match")                                           \
    X(ERR_SSL_NO_SUITABLE_SIGNATURE_ALGORITHM, -5272, "no suitable signature algorithm")           \
    X(ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS, -5273, "no shared signature algorithms")             \
    X(ERR_SSL_NO_SHARED_GROUPS, -5274, "no shared groups")                                         \
    X(ERR_SSL_NO_SUITABLE_KEY_SHARE, -5275, "no suitable key share")                               \
    X(ERR_SSL_NO_SUITABLE_GROUPS, -5276, "no suitable groups")                                     \
    X(ERR_SSL_BAD_KEY_SHARE, -5277, "bad key share")                                               \
    X(ERR_SSL_BAD_SIGNATURE, -5278, "bad signature")                                               \
    X(ERR_SSL_WRONG_SIGNATURE_TYPE, -5279, "wrong signature type")                                 \
    X(ERR_SSL_WRONG_CIPHER_RETURNED, -5280, "wrong cipher returned")                               \
    X(ERR_SSL_UNKNOWN_CIPHER_RETURNED, -5281, "unknown cipher returned")                           \
    X(ERR_SSL_BAD_ECPOINT, -5282, "bad ecpoint")                                                   \
    X(ERR_SSL_BAD_DH_VALUE, -5283, "bad dh value")                                                 \
    X(ERR_SSL_DH_KEY_TOO_SMALL, -5284, "dh key too small")                                         \
    X(ERR_SSL_EE_KEY_TOO_SMALL, -5285, "ee key too small")                                         \
    X(ERR_SSL_CA_KEY_TOO_SMALL, -5286, "ca key too small")                                         \
    X(ERR_SSL_CA_MD_TOO_WEAK, -5287, "ca md too weak")                                             \
    X(ERR_SSL_BAD_LEGACY_VERSION, -5288, "bad legacy version")                                     \
    X(ERR_SSL_BAD_HELLO_REQUEST, -5289, "bad hello request")                                       \
    X(ERR_SSL_CERTIFICATE_VERIFY_FAILED, -5290, "certificate verify failed")                       \
    X(ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE, -5291, "peer did not return a certificate")       \
    X(ERR_SSL_NO_CERTIFICATES_RETURNED, -5292, "no certificates returned")                         \
    X(ERR_SSL_NO_CERTIFICATE_ASSIGNED, -5293, "no certificate assigned")                           \
    X(ERR_SSL_NO_PRIVATE_KEY_ASSIGNED, -5294, "no private key assigned")                           \
    X(ERR_SSL_PRIVATE_KEY_MISMATCH, -5295, "private key mismatch")                                 \
    X(ERR_SSL_SESSION_ID_CONTEXT_UNINITIALIZED, -5296, "session id context uninitialized")         \
    X(ERR_SSL_ATTEMPT_TO_REUSE_SESSION_IN_DIFFERENT_CONTEXT, -5297,                                \
      "attempt to reuse session in different context")                                             \
    X(ERR_SSL_BAD_VALUE, -5298, "bad value")                                                       \
    X(ERR_SSL_INVALID_TICKET_KEYS_LENGTH, -5299, "invalid ticket keys length")                     \
    X(ERR_SSL_NO_RENEGOTIATION, -5300, "no renegotiation")                                         \
    X(ERR_SSL_UNSAFE_LEGACY_RENEGOTIATION_DISABLED, -5301, "unsafe legacy renegotiation disabled") \
    X(ERR_SSL_RENEGOTIATION_MISMATCH, -5302, "renegotiation mismatch")                             \
    X(ERR_SSL_INAPPROPRIATE_FALLBACK, -5303, "inappropriate fallback")                             \
    X(ERR_SSL_NO_APPLICATION_PROTOCOL, -5304, "no application protocol")                           \
    X(ERR_SSL_BAD_EXTENSION, -5305, "bad extension")                                               \
    X(ERR_SSL_PARSE_TLSEXT, -5306, "parse tlsext")                                                 \
    X(ERR_SSL_CLIENTHELLO_TLSEXT, -5307, "clienthello tlsext")                                     \
    X(ERR_SSL_SERVERHELLO_TLSEXT, -5308, "serverhello tlsext")                                     \
    X(ERR_SSL_UNSOLICITED_EXTENSION, -5309, "unsolicited extension")                               \
    X(ERR_SSL_MISSING_SIGALGS_EXTENSION, -5310, "missing sigalgs extension")                       \
    X(ERR_SSL_MISSING_SUPPORTED_GROUPS_EXTENSION, -5311, "missing supported groups extension")     \
    X(ERR_SSL_SSL_HANDSHAKE_FAILURE, -5312, "ssl handshake failure")                               \
    X(ERR_SSL_BAD_KEY_UPDATE, -5313, "bad key update")                                             \
    X(ERR_SSL_TOO_MANY_KEY_UPDATES, -5314, "too many key updates")                                 \
    X(ERR_SSL_TOO_MANY_WARN_ALERTS, -5315, "too many warn alerts")                                 \
    X(ERR_SSL_INVALID_ALERT, -5316, "invalid alert")                                               \
    X(ERR_SSL_UNKNOWN_ALERT_TYPE, -5317, "unknown alert type")                                     \
    X(ERR_SSL_CALLBACK_FAILED, -5318, "callback failed")                                           \
    X(ERR_SSL_CERT_CB_ERROR, -5319, "cert cb error")                                               \
    X(ERR_SSL_X509_LIB, -5320, "x509 lib")                                                         \
    X(ERR_SSL_X509_VERIFICATION_SETUP_PROBLEMS, -5321, "x509 verification setup problems")         \
    X(ERR_SSL_LIBRARY_HAS_NO_CIPHERS, -5322, "library has no ciphers")                             \
    X(ERR_SSL_SSLV3_ALERT_UNEXPECTED_MESSAGE, -5323, "sslv3 alert unexpected message")             \
    X(ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC, -5324, "sslv3 alert bad record mac")                     \
    X(ERR_SSL_TLSV1_ALERT_DECRYPTION_FAILED, -5325, "tlsv1 alert decryption failed")               \
    X(ERR_SSL_TLSV1_ALERT_RECORD_OVERFLOW, -5326, "tlsv1 alert record overflow")                   \
    X(ERR_SSL_SSLV3_ALERT_DECOMPRESSION_FAILURE, -5327, "sslv3 alert decompression failure")       \
    X(ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE, -5328, "sslv3 alert handshake failure")               \
    X(ERR_SSL_SSLV3_ALERT_NO_CERTIFICATE, -5329, "sslv3 alert no certificate")                     \
    X(ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE, -5330, "sslv3 alert bad certificate")                   \
    X(ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE, -5331, "sslv3 alert unsupported certificate")   \
    X(ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED, -5332, "sslv3 alert certificate revoked")           \
    X(ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED, -5333, "sslv3 alert certificate expired")           \
    X(ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN, -5334, "sslv3 alert certificate unknown")           \
    X(ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER, -5335, "sslv3 alert illegal parameter")               \
    X(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA, -5336, "tlsv1 alert unknown ca")                             \
    X(ERR_SSL_TLSV1_ALERT_ACCESS_DENIED, -5337, "tlsv1 alert access denied")                       \
    X(ERR_SSL_TLSV1_ALERT_DECODE_ERROR, -5338, "tlsv1 alert decode error")                         \
    X(ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR, -5339, "tlsv1 alert decrypt error")                       \
    X(ERR_SSL_TLSV1_ALERT_EXPORT_RESTRICTION, -5340, "tlsv1 alert export restriction")             \
    X(ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION, -5341, "tlsv1 alert protocol version")                 \
    X(ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY, -5342, "tlsv1 alert insufficient security")       \
    X(ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR, -5343, "tlsv1 alert internal error")                     \
    X(ERR_SSL_TLSV1_ALERT_INAPPROPRIATE_FALLBACK, -5344, "tlsv1 alert inappropriate fallback")     \
    X(ERR_SSL_TLSV1_ALERT_USER_CANCELLED, -5345, "tlsv1 alert user cancelled")                     \
    X(ERR_SSL_TLSV1_ALERT_NO_RENEGOTIATION, -5346, "tlsv1 alert no renegotiation")                 \
    X(ERR_SSL_TLSV13_ALERT_MISSING_EXTENSION, -5347, "tlsv13 alert missing extension")             \
    X(ERR_SSL_TLSV1_UNSUPPORTED_EXTENSION, -5348, "tlsv1 unsupported extension")                   \
    X(ERR_SSL_TLSV1_CERTIFICATE_UNOBTAINABLE, -5349, "tlsv1 certificate unobtainable")             \
    X(ERR_SSL_TLSV1_UNRECOGNIZED_NAME, -5350, "tlsv1 unrecognized name")                           \
    X(ERR_SSL_TLSV1_BAD_CERTIFICATE_STATUS_RESPONSE, -5351,                                        \
      "tlsv1 bad certificate status response")                                                     \
    X(ERR_SSL_TLSV1_BAD_CERTIFICATE_HASH_VALUE, -5352, "tlsv1 bad certificate hash value")         \
    X(ERR_SSL_TLSV1_ALERT_UNKNOWN_PSK_IDENTITY, -5353, "tlsv1 alert unknown psk identity")         \
    X(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, -5354, "tlsv13 alert certificate required")       \
    X(ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL, -5355, "tlsv1 alert no application protocol")   \
    X(ERR_OSSL_PEM_NO_START_LINE, -5356, "no start line")                                          \
    X(ERR_OSSL_PEM_BAD_BASE64_DECODE, -5357, "bad base64 decode")                                  \
    X(ERR_OSSL_PEM_BAD_END_LINE, -5358, "bad end line")                                            \
    X(ERR_OSSL_PEM_BAD_DECRYPT, -5359, "bad decrypt")                                              \
    X(ERR_OSSL_PEM_BAD_PASSWORD_READ, -5360, "bad password read")                                  \
    X(ERR_OSSL_PEM_PROBLEMS_GETTING_PASSWORD, -5361, "problems getting password")                  \
    X(ERR_OSSL_PEM_UNSUPPORTED_ENCRYPTION, -5362, "unsupported encryption")                        \
    X(ERR_OSSL_PEM_SHORT_HEADER, -5363, "short header")                                            \
    X(ERR_OSSL_PEM_BAD_IV_CHARS, -5364, "bad iv chars")                                            \
    X(ERR_OSSL_X509_KEY_VALUES_MISMATCH, -5365, "key values mismatch")                             \
    X(ERR_OSSL_X509_UNKNOWN_KEY_TYPE, -5366, "unknown key type")                                   \
    X(ERR_OSSL_ASN1_TOO_LONG, -5367, "too long")                                                   \
    X(ERR_OSSL_ASN1_HEADER_TOO_LONG, -5368, "header too long")                                     \
    X(ERR_OSSL_ASN1_NOT_ENOUGH_DATA, -5369, "not enough data")                                     \
    X(ERR_OSSL_ASN1_WRONG_TAG, -5370, "wrong tag")                                                 \
    X(ERR_OSSL_ASN1_BAD_OBJECT_HEADER, -5371, "bad object header")                                 \
    X(ERR_OSSL_EVP_BAD_DECRYPT, -5372, "bad decrypt")                                              \
    X(ERR_OSSL_EVP_UNSUPPORTED_PRIVATE_KEY_ALGORITHM, -5373, "unsupported private key algorithm")  \
    X(ERR_OSSL_BAD_DECRYPT, -5374, "bad decrypt")                                                  \
    X(ERR_OSSL_UNSUPPORTED, -5375, "unsupported")

/* Node's own TLS codes, and the catch-all for OpenSSL reasons not listed above. */
#define CNET_TLS_ERR_MAP(X)                                                                        \
    X(ERR_TLS_CERT_ALTNAME_INVALID, -5380, "Hostname/IP does not match certificate's altnames")    \
    X(ERR_TLS_CERT_ALTNAME_FORMAT, -5381, "Invalid subject alternative name string")               \
    X(ERR_TLS_HANDSHAKE_TIMEOUT, -5382, "TLS handshake timeout")                                   \
    X(ERR_TLS_INVALID_PROTOCOL_VERSION, -5383, "not a valid TLS protocol version")                 \
    X(ERR_TLS_RENEGOTIATION_DISABLED, -5384, "TLS session renegotiation disabled for this socket") \
    X(ERR_TLS_SNI_FROM_SERVER, -5385, "Cannot issue SNI from a TLS server-side socket")            \
    X(ERR_TLS_INVALID_STATE, -5386, "TLS socket connection must be securely established")          \
    X(ERR_TLS_INVALID_CONTEXT, -5387, "context must be a SecureContext")                           \
    X(ERR_TLS_ALPN_CALLBACK_INVALID_RESULT, -5388,                                                 \
      "ALPN callback returned a value that did not match any of the client's offered protocols")   \
    X(ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS, -5389,                                                 \
      "The ALPNCallback and ALPNProtocols TLS options are mutually exclusive")                     \
    X(ERR_CRYPTO_OPERATION_FAILED, -5390, "Crypto operation failed")                               \
    X(ERR_NO_CRYPTO, -5391, "cnet was built without TLS support (CNET_WITH_TLS=OFF)")              \
    X(ERR_OSSL_UNLISTED, -5399, "an OpenSSL error that has no code of its own (see the message)")

#define CNET_ERROR_MAP(X) \
    CNET_ERRNO_MAP(X)     \
    CNET_LIBERR_MAP(X) CNET_TLS_VERIFY_ERR_MAP(X) CNET_TLS_OSSL_ERR_MAP(X) CNET_TLS_ERR_MAP(X)

typedef enum {
#define CNET__ERR_ENUM(name, value, msg) CNET_##name = (value),
    CNET_ERROR_MAP(CNET__ERR_ENUM)
#undef CNET__ERR_ENUM
} cnet_errno_t;

/** Node's err.code for @p code ("ECONNREFUSED"); "UNKNOWN" for a code not in the table. Static. */
CNET_EXTERN const char *cnet_err_name(int code);
/** A message for @p code; never NULL, never allocated. */
CNET_EXTERN const char *cnet_strerror(int code);

/**
 * An error as Node reports it on its error objects: code plus the syscall,
 * address and port involved. Strings are borrowed (valid during the event).
 * @c message is Node's text, e.g. "connect ECONNREFUSED 127.0.0.1:1".
 */
typedef struct cnet_error {
    int code;             /* negative CNET_E* code */
    const char *syscall;  /* "connect", "getaddrinfo", "listen", "read", "write"... or NULL */
    const char *address;  /* IP address or socket path, or NULL */
    int port;             /* port, or -1 when not relevant */
    const char *hostname; /* host name for DNS errors, or NULL */
    const char *message;  /* full message, never NULL */
    /* Since 0.2: the local endpoint of a failed connect that was bound to a local port
     * (localPort, with or without localAddress); the message then ends with Node's
     * " - Local (addr:port)". A failed bind itself reports the local endpoint in
     * address/port, with syscall "bind", as Node does. */
    const char *local_address; /* or NULL */
    int local_port;            /* or -1 */
    /* Since 0.3: Node's AggregateError, when every address of a Happy Eyeballs connect
     * failed (see cnet_connect_opts_t.auto_select_family): @c code is the first
     * attempt's, @c message is "" (as Node's), syscall/address are NULL, and
     * attempts[0..nattempts-1] is each attempt's own error in attempt order (a timed-out
     * attempt is ETIMEDOUT; a failed local bind has syscall "bind"). Borrowed like the
     * rest: valid during the event. NULL and 0 for every other error. */
    const struct cnet_error *attempts;
    size_t nattempts;
} cnet_error_t;

/* ------------------------------------------------------------------------
 * 3. EVENTS
 * ------------------------------------------------------------------------ */

/* Event names are Node's. Adding one? Update this map and docs/design.md. */
#define CNET_EVENT_MAP(X)                                     \
    X(LOOKUP, "lookup")                                       \
    X(CONNECT, "connect")                                     \
    X(READY, "ready")                                         \
    X(DATA, "data")                                           \
    X(END, "end")                                             \
    X(FINISH, "finish")                                       \
    X(DRAIN, "drain")                                         \
    X(TIMEOUT, "timeout")                                     \
    X(ERROR, "error")                                         \
    X(CLOSE, "close")                                         \
    X(LISTENING, "listening")                                 \
    X(CONNECTION, "connection")                               \
    X(DROP, "drop")                                           \
    X(FRAME, "frame")                                         \
    X(CONNECTION_ATTEMPT, "connectionAttempt")                \
    X(CONNECTION_ATTEMPT_FAILED, "connectionAttemptFailed")   \
    X(CONNECTION_ATTEMPT_TIMEOUT, "connectionAttemptTimeout") \
    X(SECURE, "secure")                                       \
    X(SECURE_CONNECT, "secureConnect")                        \
    X(SECURE_CONNECTION, "secureConnection")                  \
    X(TLS_CLIENT_ERROR, "tlsClientError")                     \
    X(SESSION, "session")                                     \
    X(KEYLOG, "keylog")                                       \
    X(MESSAGE, "message")

typedef enum {
#define CNET__EV_ENUM(name, str) CNET_EVENT_##name,
    CNET_EVENT_MAP(CNET__EV_ENUM)
#undef CNET__EV_ENUM
        CNET_EVENT__COUNT /* grows with every new event: not part of the ABI */
} cnet_event_type_t;

/** off_all(CNET_EVENT_ALL): every type (a fixed value, unlike the count).
 */
#define CNET_EVENT_ALL ((cnet_event_type_t)0xffff)

/** Node's event name ("data"), or NULL for an invalid type. */
CNET_EXTERN const char *cnet_event_name(cnet_event_type_t type);

/** Maximum length of a formatted address (an IPv6 address or a socket path), with the NUL. */
#define CNET_ADDRSTRLEN 110

/** An endpoint, as Node's address() returns it. family is 4, 6, or 0 for a Unix socket path. */
typedef struct cnet_address {
    char address[CNET_ADDRSTRLEN];
    int port;
    int family;
} cnet_address_t;

/**
 * What a listener receives. Read-only and borrowed: valid until the listener
 * returns. Which fields are set depends on @c type:
 *   DATA        data.base/len: the bytes (or the decoded string, NUL-terminated,
 *               when an encoding is set; @c encoding names it).
 *   FRAME       data.base/len: one whole frame (see cnet_socket_set_framing).
 *   ERROR       error: what failed.
 *   CLOSE       had_error: true when the socket closed because of an error.
 *   LOOKUP      error (NULL on success), address, family, host. address is NULL and
 *               family 0 when a custom resolver answered nothing. With Happy Eyeballs
 *               (the default) one 'lookup' per resolved address, in the resolver's order;
 *               without it one, for the first address.
 *   CONNECTION_ATTEMPT          address, port, family: a connect(2) is about to be made
 *               (for a Unix socket: address is the path, port -1, family 0).
 *   CONNECTION_ATTEMPT_FAILED   address, port, family, error: that attempt failed.
 *   CONNECTION_ATTEMPT_TIMEOUT  address, port, family: Happy Eyeballs gave up on the
 *               attempt after its attempt timeout and goes on with the next address.
 *   CONNECTION  connection: the new socket (owned by the library, see Lifetime).
 *   MESSAGE     (a channel's, section 13) data.base/len: the message's bytes; connection:
 *               the socket that came with it, or NULL; server: the server that came with
 *               it, or NULL.
 *   DROP        local, remote: the endpoints of the dropped connection; reason:
 *               "maxConnections" or "blockList" (cnet_server_opts_t.block_list).
 *   CLOSE (server) error: NULL for 'close' listeners. Only the callback given
 *               to cnet_server_close() may see an error: ERR_SERVER_NOT_RUNNING
 *               when the server was not listening at that call (Node's cb(err)).
 */
typedef struct cnet_event {
    cnet_event_type_t type;
    struct {
        const char *base;
        size_t len;
    } data;
    const char *encoding;
    const cnet_error_t *error;
    bool had_error;
    cnet_socket_t *connection;
    const char *address;
    int family;
    const char *host;
    const cnet_address_t *local;
    const cnet_address_t *remote;
    int port;              /* since 0.3: CONNECTION_ATTEMPT* (0 for other events) */
    cnet_server_t *server; /* since 0.3: MESSAGE of a channel, a server that came with it */
    /* Since 0.3: DROP: why, "maxConnections" or "blockList" (static). */
    const char *reason;
} cnet_event_t;

typedef void (*cnet_socket_cb)(cnet_socket_t *s, const cnet_event_t *ev, void *arg);
typedef void (*cnet_server_cb)(cnet_server_t *srv, const cnet_event_t *ev, void *arg);

/* ------------------------------------------------------------------------
 * 4. LOOP
 * ------------------------------------------------------------------------ */

/**
 * The calling thread's default loop, created on first use. Returns NULL only
 * when out of memory. Every constructor that takes a loop accepts NULL for it.
 */
CNET_EXTERN cnet_loop_t *cnet_loop_default(void);

/** A new loop with its own libuv loop. Free it with cnet_loop_close(). */
CNET_EXTERN int cnet_loop_new(cnet_loop_t **out);

/**
 * Runs @p loop until nothing ref'd remains: no listening server, open socket,
 * pending connect, lookup or timer that is ref'd (Node's exit rule).
 * Returns 0, or CNET_ERR_INVALID_ARG_TYPE for NULL.
 */
CNET_EXTERN int cnet_loop_run(cnet_loop_t *loop);

/** Runs one iteration without blocking; returns true while work remains. */
CNET_EXTERN bool cnet_loop_run_nowait(cnet_loop_t *loop);

/** Makes cnet_loop_run() return after the current iteration. */
CNET_EXTERN void cnet_loop_stop(cnet_loop_t *loop);

/**
 * Frees @p loop. Fails with CNET_ERR_LOOP_BUSY, changing nothing, while any
 * socket or server created on it is still alive (or from inside a function
 * posted to it). For an adopted libuv loop (cnet/uv.h) only cnet's state is
 * freed; the uv_loop_t is handed back open. Functions posted to it that
 * never ran are called, here, with CNET_ERR_LOOP_CLOSED (cnet_loop_post);
 * a loop kept by cnet_loop_retain() keeps its memory, and refuses posts,
 * until the last cnet_loop_release().
 */
CNET_EXTERN int cnet_loop_close(cnet_loop_t *loop);

/** Number of sockets and servers alive on @p loop (for leak checks). */
CNET_EXTERN size_t cnet_loop_alive(const cnet_loop_t *loop);

/** The loop's cached time in milliseconds (libuv's uv_now()). */
CNET_EXTERN uint64_t cnet_loop_now(const cnet_loop_t *loop);

/**
 * Runs the calling thread's default loop until nothing ref'd remains, then,
 * if no object is left on it, frees it (a later call creates a new one).
 * Like `node script.js`: returns 0 when the program is done.
 */
CNET_EXTERN int cnet_run(void);

/* Threads: posting to a loop, and worker loops on many cores. -------------------- */

/**
 * A function run on a loop's thread by cnet_loop_post(). @p status is 0 when
 * it runs on @p loop's thread, inside that loop's iteration (any cnet call on
 * that loop is allowed, as in any callback); or CNET_ERR_LOOP_CLOSED when the
 * loop was closed before it could run: it is then called once, from inside
 * cnet_loop_close() on the closing thread, only so that @p arg can be freed
 * (@p loop may then only be given to cnet_loop_post(), which fails).
 * Every posted function is called exactly once, one way or the other.
 */
typedef void (*cnet_post_fn)(cnet_loop_t *loop, int status, void *arg);

/**
 * Runs @p fn(loop, 0, arg) on @p loop's thread, on a later iteration of that
 * loop: never inside this call, even when called on the loop's own thread.
 * THREAD-SAFE: callable from any thread (with cnet_loop_retain/release, the
 * only loop functions that are). Functions posted by one thread run in the
 * order that thread posted them; posts from several threads interleave in
 * the order they took the loop's lock. Wakeups are coalesced: a burst of
 * posts costs the loop one wakeup (one eventfd write and read), and each
 * post one small allocation (cnet's allocator must then be thread-safe, as
 * malloc is).
 * A queued post keeps cnet_loop_run() from returning until it ran (as a
 * queued nextTick does), but an idle loop does not wait for posts: one
 * posted to a loop that is not running (its run returned) runs at the next
 * cnet_loop_run() or, at cnet_loop_close(), is called with
 * CNET_ERR_LOOP_CLOSED. A loop run by a worker (cnet_workers_start) runs
 * until its cnet_workers_stop(). On an adopted loop (cnet/uv.h) that you
 * uv_run() yourself, posts run while the loop runs but do not keep it alive.
 * Racing with the loop's close: a thread that may post while the owner
 * closes the loop must keep the loop's memory valid with cnet_loop_retain()
 * (taken while the loop is known to be open, e.g. before the thread starts);
 * then a post after the close returns CNET_ERR_LOOP_CLOSED and schedules
 * nothing.
 * @return 0; CNET_ERR_INVALID_ARG_TYPE (@p loop or @p fn NULL),
 *   CNET_ERR_LOOP_CLOSED, CNET_ENOMEM, or libuv's uv_async_send() error.
 */
CNET_EXTERN int cnet_loop_post(cnet_loop_t *loop, cnet_post_fn fn, void *arg);

/**
 * Keeps @p loop's memory (not the loop: it still closes) valid past
 * cnet_loop_close() until the matching cnet_loop_release(), so that other
 * threads may still call cnet_loop_post() on it (which then fails with
 * CNET_ERR_LOOP_CLOSED). THREAD-SAFE (atomic). Retain only a loop that is
 * not yet closed; NULL is a no-op.
 */
CNET_EXTERN void cnet_loop_retain(cnet_loop_t *loop);
/** Drops a cnet_loop_retain(); the last one after the close frees the memory. THREAD-SAFE. */
CNET_EXTERN void cnet_loop_release(cnet_loop_t *loop);

/** A running group of worker threads, each with its own loop (cnet_workers_start). */
typedef struct cnet_workers_s cnet_workers_t;

/**
 * Sets worker @p index (0 .. n-1) up, on its own thread, on @p loop (that
 * thread's default loop, so cnet_create_server() and cnet_connect() land on
 * it too). Typically creates a server listening with
 * cnet_listen_opts_t.reuse_port (or, without it, not exclusive: sharing one
 * socket, see there) on the same port as the other workers. Return 0, or a
 * negative code: cnet_workers_start() then fails with it.
 */
typedef int (*cnet_worker_setup_fn)(cnet_loop_t *loop, unsigned index, void *arg);

/**
 * Starts @p n worker threads (1..1024), one cnet loop each; the threads run
 * their loops until cnet_workers_stop(), whatever is or is not open on them
 * (they do not stop when nothing is ref'd). Each thread calls @p setup(loop,
 * index, arg) first. The setups run one after the other, in index order, each
 * on its own worker's thread: worker i starts only once setup i-1 returned 0,
 * so a setup may use what an earlier one did (the port worker 0 was given,
 * say: pass it through @p arg, which every setup shares). This returns when
 * every setup returned. Errors that arrive later, as events (a bind's
 * EADDRINUSE, 'error' on the worker's server), are the setup's listeners' to
 * handle on the worker's thread.
 * Process-wide state (cnet_replace_allocator, cnet_set_log, the Happy
 * Eyeballs defaults) is set before workers start. Worker threads start with
 * the caller's signal mask: block SIGINT/SIGTERM first to take them only in
 * the thread that waits (sigwait) and calls cnet_workers_stop().
 * @return 0 and *out; or, with *out NULL and every worker already stopped
 *   (as cnet_workers_stop() does): the first failing setup's code (nothing
 *   of worker i+1 and later ran), CNET_ERR_INVALID_ARG_TYPE (setup or out
 *   NULL), CNET_ERR_OUT_OF_RANGE (n), CNET_ENOMEM, or a thread's creation
 *   error.
 */
CNET_EXTERN int cnet_workers_start(unsigned n, cnet_worker_setup_fn setup, void *arg,
                                   cnet_workers_t **out);

/**
 * Stops every worker, waits for their threads and frees @p w. Each worker's
 * loop gets a posted shutdown: every server on it is closed (as
 * cnet_server_destroy(): it stops accepting), every socket is destroyed
 * (node's socket.destroy(): writes still queued are cancelled, 'close'
 * follows), and so is any socket that appears during the shutdown (a
 * connect in progress once it gets its handle, a reconnect from a 'close'
 * listener); the events ('close' and the write callbacks' ECANCELED) run on
 * the worker's thread as usual. Then the loop closes, functions still posted
 * to it get CNET_ERR_LOOP_CLOSED, and the thread ends. For a graceful drain
 * (end() and wait for 'finish'), post your own shutdown to each loop first
 * and call this once it is done. An object kept alive without a libuv
 * handle (a retain not released, a socket that never connected and was
 * never destroyed, a custom lookup never answered) keeps its loop from
 * closing: that loop is leaked, with an error logged, and the thread ends
 * anyway.
 * Call it from a thread that is not one of @p w's workers (it joins them).
 * @return 0; CNET_ERR_INVALID_ARG_TYPE (NULL); CNET_ERR_WRONG_THREAD (called
 *   on a worker of @p w: nothing is done).
 */
CNET_EXTERN int cnet_workers_stop(cnet_workers_t *w);

/** The number of workers of @p w (0 for NULL). THREAD-SAFE. */
CNET_EXTERN unsigned cnet_workers_count(const cnet_workers_t *w);

/**
 * Worker @p index's loop (NULL when out of range), to cnet_loop_post() to it
 * from any thread. THREAD-SAFE. The pointer stays valid (retained) until
 * cnet_workers_stop() returns; a post during the stop, after that worker's
 * loop closed, fails with CNET_ERR_LOOP_CLOSED.
 */
CNET_EXTERN cnet_loop_t *cnet_workers_loop(const cnet_workers_t *w, unsigned index);

/* ------------------------------------------------------------------------
 * 5. SERVERS
 * ------------------------------------------------------------------------ */

/* A TLS server's SNI and ALPN callbacks (cnet_server_opts_t.sni_callback and
 * .alpn_callback; section 12). */
typedef void (*cnet_tls_sni_cb)(cnet_socket_t *s, const char *servername, void *arg);
typedef const char *(*cnet_tls_alpn_cb)(cnet_socket_t *s, const char *servername,
                                        const char *const *protocols, size_t count, void *arg);

/** net.createServer() options. Start from CNET_SERVER_OPTS_INIT (see "Options structs"). */
typedef struct cnet_server_opts {
    size_t size;           /* sizeof the struct: set by CNET_SERVER_OPTS_INIT */
    bool allow_half_open;  /* accepted sockets: keep writable after peer's FIN */
    bool pause_on_connect; /* accepted sockets start paused */
    bool no_delay;         /* TCP_NODELAY on accepted sockets */
    bool keep_alive;       /* SO_KEEPALIVE on accepted sockets */
    unsigned keep_alive_initial_delay_ms;
    int max_connections;    /* 0: no limit (Node's maxConnections) */
    size_t high_water_mark; /* accepted sockets' write highWaterMark; 0: 16 KiB */
    /* Since 0.3: tls.createServer(): accepted sockets are TLS on this context (retained
     * by the server, see section 10); NULL: plain. 'connection' still comes at accept;
     * 'secureConnection' (connection: the socket) once its handshake is done, and
     * 'tlsClientError' (connection, error) when it fails: that socket then closes
     * without an 'error' of its own and the server keeps serving, as node's. A
     * connection destroyed without an error before its handshake is done (the client
     * went away, cnet_socket_destroy() from a callback) is also a 'tlsClientError':
     * CNET_ECONNRESET "socket hang up", before its 'close', as node's; one that fails
     * with an error of its own then (the client's RST: CNET_ECONNRESET "read ECONNRESET",
     * a failed write, cnet_socket_destroy_with_error()) is a 'tlsClientError' with that
     * error, and no 'error' on the socket. Replaceable
     * while the server runs: cnet_server_set_secure_context(). */
    struct cnet_tls_context_s *tls;
    /* Since 0.3, with tls: node's handshakeTimeout. A handshake not done after it is a
     * 'tlsClientError' CNET_ERR_TLS_HANDSHAKE_TIMEOUT ("TLS handshake timeout") and the
     * socket is destroyed. 0: 120000 (node's default). */
    unsigned handshake_timeout_ms;
    /* Since 0.3, with tls: node's SNICallback(servername, cb). Called (with sni_arg) for
     * each connection whose client sent a server name, before the certificate is chosen;
     * the handshake waits until cnet_tls_sni_done() answers, now or later (section 12).
     * NULL: every connection uses the server's context. */
    cnet_tls_sni_cb sni_callback;
    void *sni_arg;
    /* Since 0.3, with tls: node's ALPNCallback({servername, protocols}). Called (with
     * alpn_arg) for each connection whose client offers ALPN; returns the protocol to use
     * or NULL to refuse them all (section 12). Mutually exclusive with the context's
     * alpn_protocols: CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS. NULL: the context's list. */
    cnet_tls_alpn_cb alpn_callback;
    void *alpn_arg;
    /* Since 0.3: node's blockList (section 8, retained by the server). A TCP connection
     * whose peer it blocks is closed at accept, before any 'connection': a 'drop' event
     * (reason "blockList") and cnet_server_blocked_count() count it. NULL: none. */
    cnet_blocklist_t *block_list;
} cnet_server_opts_t;
#define CNET_SERVER_OPTS_INIT CNET__OPTS_INIT(cnet_server_opts_t)

/**
 * net.createServer(): a new server on @p loop (NULL: the thread's default).
 * Emits: 'listening', 'connection', 'drop', 'error', 'close' (and, with
 * opts->tls, 'secureConnection', 'tlsClientError').
 * The loop's first server opens one spare descriptor (/dev/null, O_CLOEXEC),
 * held until cnet_loop_close(): at EMFILE during accept it is freed to accept
 * and close the waiting connections, so the listener never spins.
 * @return 0, CNET_ENOMEM, CNET_ERR_INVALID_ARG_TYPE (out is NULL),
 *   CNET_ERR_INVALID_ARG_VALUE (options struct),
 *   CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS (alpn_callback with a context
 *   that has alpn_protocols, as node's tls.createServer throws).
 */
CNET_EXTERN int cnet_server_new(cnet_loop_t *loop, const cnet_server_opts_t *opts,
                                cnet_server_t **out);

/**
 * net.createServer(options, connectionListener) on the default loop.
 * @p on_connection (may be NULL) is added as a 'connection' listener.
 * @return the server, or NULL when out of memory.
 */
CNET_EXTERN cnet_server_t *cnet_create_server(const cnet_server_opts_t *opts,
                                              cnet_server_cb on_connection, void *arg);

/*
 * Unix socket names (node's "Identifying paths for IPC connections"). listen
 * and connect take a path instead of a host and port (cnet_listen_opts_t,
 * cnet_connect_opts_t: path, path_len), in two kinds:
 *   - A filesystem path: NUL-terminated (path_len 0), or path_len bytes
 *     holding no NUL. It must fit in sun_path with its NUL (107 bytes on
 *     Linux), else CNET_ENAMETOOLONG (node truncates silently). listen
 *     creates the socket file and close removes it; the file's permissions
 *     decide who may connect (readable_all / writable_all widen them).
 *   - A Linux abstract name: path_len bytes starting with a NUL byte, up to
 *     108 (sun_path's size); every byte counts, NULs included:
 *         lo.path = "\0myapp"; lo.path_len = sizeof "\0myapp" - 1;  (6)
 *     It is in no filesystem: nothing to remove, gone with its last socket,
 *     and no permissions (readable_all / writable_all are refused with
 *     CNET_ERR_INVALID_ARG_VALUE, as node throws ERR_INVALID_ARG_VALUE): use
 *     cnet_socket_peer_credentials() to decide who may talk to you. The
 *     socket address is exactly the name's length (as libuv >= 1.48, node
 *     >= 22, Python, Go and socat do). Node v20 pads the name with NULs to
 *     all of sun_path, so to reach a node v20 server (or be reached by a
 *     node v20 client) give the name in a zeroed 108-byte buffer with
 *     path_len 108. Elsewhere than Linux an abstract name is CNET_EINVAL.
 *   There is no "@name" shorthand: as in node, "@name" is a file named
 *   "@name" in the working directory.
 * Reported names: cnet_server_address(), cnet_socket_address() and
 * cnet_socket_remote_address() and the 'connectionAttempt' event give the
 * name as node's address() does, an abstract one with its leading NUL:
 * address[0] is '\0' and the name follows from address + 1 up to its first
 * NUL (so node v20's padding is gone, and a name with NULs of its own is cut
 * there). Error messages and cnet_error_t.address show each NUL as '@'
 * ("connect ECONNREFUSED @myapp"; node's text holds the NUL itself).
 */

/** server.listen() options. */
typedef struct cnet_listen_opts {
    size_t size;       /* sizeof the struct: set by CNET_LISTEN_OPTS_INIT */
    int port;          /* 0: an OS-assigned port; checked (0..65535) even with a path */
    const char *host;  /* NULL or "": "::" dual-stack, else 0.0.0.0; names are resolved */
    const char *path;  /* a Unix socket path instead of host/port (the path wins over a port:
                        * Node would listen on a given port, but C cannot tell 0 from none) */
    int backlog;       /* 0: 511; negative: CNET_ERR_OUT_OF_RANGE (node passes it to listen(2)) */
    bool ipv6_only;    /* with an IPv6 host ("::"): no IPv4. Ignored without a host, as Node */
    bool readable_all; /* path: add read permission for all users to the socket file */
    bool writable_all; /* path: add write permission for all users to the socket file */
    /* Since 0.3: AbortSignal. Its abort closes the server (cnet_server_close(srv, NULL,
     * NULL)); an already aborted one closes it before it emits 'listening'. Retained
     * until the server's 'close'. NULL: none. */
    cnet_abort_signal_t *signal;
    /*
     * Since 0.3: the length of path in bytes; 0: path is NUL-terminated. With a length,
     * path may start with a NUL byte: a Linux abstract name (node's '\0name', see
     * "Unix socket names" above), every byte of which counts; a filesystem path must
     * then hold no NUL. Without a path it must be 0 (else CNET_ERR_INVALID_ARG_VALUE).
     */
    size_t path_len;
    /* Since 0.3: node 22's reusePort (TCP only; ignored with a path, as node). SO_REUSEPORT
     * is set on the socket before its bind, so several servers (of this process, one per
     * worker loop, or of others of the same user) may listen on the same address and
     * port; the kernel gives each new connection to one of them, chosen by a hash of
     * its 4-tuple (source and destination address and port): an even spread over many
     * clients, but one client's connections from a fixed source port always land on
     * the same server, and a server that stops accepting keeps receiving its share.
     * With port 0 each server gets its own new port: listen on the port the first got.
     * A failing setsockopt is an 'error' with its code (syscall "listen"), as a failed
     * bind. Each such server binds its own socket (exclusive is moot). */
    bool reuse_port;
    /* Since 0.3: node's exclusive, for servers on a worker loop (cnet_workers_start; no
     * effect on any other loop, where every listen binds its own socket as in a node
     * process that is not a cluster worker). false (node's default): the workers'
     * TCP listens on the same host and port (port 0 included, as node's cluster) share
     * ONE listening socket, bound by the first and dup()'d into the others' loops;
     * every loop polls it, a new connection wakes every idle loop and the first
     * accept() takes it (the others find EAGAIN): no even spread is guaranteed, a
     * busy loop simply accepts less (balance by load, at the price of wasted
     * wakeups). The socket closes with the last server that shares it.
     * true: this server binds its own socket (EADDRINUSE if another has the port,
     * unless reuse_port). Paths are never shared (each listen binds the path). */
    bool exclusive;
    /* Since 0.3: node's listen({fd}) (the seeds' listenFD): with has_fd, listen on @c fd,
     * an open TCP or Unix stream socket, normally already bound (and maybe listening);
     * port, host, path, ipv6_only, readable_all and writable_all are then ignored (node
     * looks at fd first), backlog and signal apply. See cnet_server_listen_fd(). */
    bool has_fd;
    int fd;
} cnet_listen_opts_t;
#define CNET_LISTEN_OPTS_INIT CNET__OPTS_INIT(cnet_listen_opts_t)

/**
 * server.listen(options, callback). @p on_listening (may be NULL) is added as
 * a once 'listening' listener. Errors of binding (EADDRINUSE, EACCES, a
 * failed lookup) arrive as an 'error' event and the server is not listening.
 * When the bind happens, as in Node:
 *   - no host, or a path: at once; cnet_server_is_listening() is true and
 *     cnet_server_address() works when this returns (a failed bind: false).
 *   - a host, even an IP literal: on a later tick (after the lookup for a
 *     name); until 'listening' the server is not listening and
 *     cnet_server_address() fails, and a close() meanwhile cancels the bind.
 * With readable_all / writable_all the bits are added to the socket file's
 * mode as libuv's uv_pipe_chmod() does (the umask's other bits stay).
 * @return 0, or at once (scheduling nothing): CNET_ERR_SOCKET_BAD_PORT,
 *   CNET_ENAMETOOLONG (path longer than sun_path allows),
 *   CNET_ERR_INVALID_ARG_VALUE (an empty path, path_len without a path, a
 *   filesystem path_len holding a NUL, readable_all or writable_all with an
 *   abstract name), CNET_EINVAL (an abstract name off Linux),
 *   CNET_ERR_OUT_OF_RANGE (a negative backlog),
 *   CNET_ERR_SERVER_ALREADY_LISTEN, CNET_ERR_INVALID_ARG_TYPE, CNET_ENOMEM,
 *   or the chmod's error for readable_all / writable_all (Node throws it,
 *   syscall "uv_pipe_chmod"; the socket file is removed again).
 */
CNET_EXTERN int cnet_server_listen_opts(cnet_server_t *srv, const cnet_listen_opts_t *opts,
                                        cnet_server_cb on_listening, void *arg);
/** server.listen(port, host, callback); @p host may be NULL. See cnet_server_listen_opts(). */
CNET_EXTERN int cnet_server_listen(cnet_server_t *srv, int port, const char *host,
                                   cnet_server_cb on_listening, void *arg);
/**
 * server.listen(path, callback) for a Unix domain socket. See cnet_server_listen_opts().
 * Windows named-pipe paths (\\.\pipe\NAME, \\?\pipe\NAME) are taken as they are:
 * on Linux, as in node, they are ordinary file names (a socket file of that name
 * in the current directory); libuv would open them as named pipes on Windows,
 * where cnet is neither built nor tested. The same holds for connect paths.
 */
CNET_EXTERN int cnet_server_listen_path(cnet_server_t *srv, const char *path,
                                        cnet_server_cb on_listening, void *arg);

/**
 * server.listen({fd}) (node), the seeds' server.listenFD(fd): listen on @p fd,
 * a TCP or Unix stream socket that is normally already bound (bind(2)) and
 * may already be listening (listen(2) is called again with the backlog,
 * which is harmless; an unbound TCP socket gets an ephemeral port from the
 * kernel). TCP or Unix is told from the fd itself (libuv's uv_guess_handle:
 * fstat, SO_TYPE, the family of getsockname), then the fd is opened with
 * uv_tcp_open / uv_pipe_open. As node's, this happens at once: when it
 * returns, cnet_server_is_listening() is true and cnet_server_address()
 * gives the bound TCP address; for a Unix socket it gives
 * CNET_ERR_SERVER_NOT_RUNNING (node's address() is null there: it knows no
 * pipe name). 'listening' follows on a later tick.
 * Errors, as node's: an fd that is not a TCP or Unix stream socket (a
 * regular file, a tty, a UDP socket, a closed fd) is an 'error' event
 * EINVAL "listen EINVAL: invalid argument" (syscall "listen", no address),
 * and so is listen(2) refusing the socket (a connected TCP socket); an fd
 * this loop already uses is EEXIST (share a server with
 * cnet_server_listen_handle() instead). No 'close' follows such an error.
 * Ownership: from the moment this returns 0 the fd belongs to the server,
 * whatever happens next: it is closed when the server closes, or before the
 * 'error' event when the listen fails (also for a regular file, which node
 * would leave open), except for EEXIST, where it stays with the object that
 * already has it. When this returns an error, the fd was not touched and is
 * still yours.
 * Windows: not supported (cnet is built for Unix), as node's "Listening on
 * a file descriptor is not supported on Windows".
 * @return 0, or at once: CNET_ERR_INVALID_ARG_VALUE (@p fd < 0: node's
 *   "must have the property port or path"), CNET_ERR_SERVER_ALREADY_LISTEN,
 *   CNET_ERR_INVALID_ARG_TYPE, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_server_listen_fd(cnet_server_t *srv, int fd, cnet_server_cb on_listening,
                                      void *arg);
/**
 * server.listen(handle) where handle is another server: @p srv listens on
 * the same listening socket as @p other (a duplicate of its fd, made with
 * fcntl(F_DUPFD_CLOEXEC), then as cnet_server_listen_fd()). Both servers
 * then accept from the one kernel queue: each connection goes to one of
 * them (whichever accepts first), as cluster workers sharing a handle.
 * Closing either closes only its own fd; the socket stays open while the
 * other listens (a Unix socket's file, though, is removed when the server
 * that bound it by path closes, as always). Unlike node, where
 * the new server takes over the other's handle object (the first one stops
 * getting connections, and closing either closes both), see
 * docs/node-differences.md. @p other may belong to another loop (thread),
 * but must not be used by that thread during this call.
 * @return as cnet_server_listen_fd(), and CNET_ERR_INVALID_ARG_VALUE when
 *   @p other has no listening socket (not listening, or closed: node's
 *   "must have the property port or path"), or the dup's error (EMFILE).
 */
CNET_EXTERN int cnet_server_listen_handle(cnet_server_t *srv, const cnet_server_t *other,
                                          cnet_server_cb on_listening, void *arg);
/**
 * server.listen(socket) (node takes "anything with a _handle"): listen on a
 * duplicate of @p sock's fd, as cnet_server_listen_handle(). A connected
 * socket cannot listen: the 'error' event is "listen EINVAL: invalid
 * argument", as node's (where that also closes the socket's handle; here
 * @p sock is untouched).
 * @return as cnet_server_listen_handle(); CNET_ERR_INVALID_ARG_VALUE when
 *   @p sock has no open handle (never connected, or destroyed).
 */
CNET_EXTERN int cnet_server_listen_socket(cnet_server_t *srv, const cnet_socket_t *sock,
                                          cnet_server_cb on_listening, void *arg);

/**
 * server.close(callback): stop accepting (a pending bind or lookup is
 * cancelled, a pause() ends). 'close' is emitted once every connection has
 * closed. @p on_close (may be NULL) is called once with that 'close' event,
 * in order among the 'close' listeners (it is one, added now), as Node's
 * close(cb):
 *   - the server was listening: ev->error is NULL;
 *   - it was not (never listened, a bind still pending, a failed listen,
 *     already closing, or closed, even from inside its own 'close'
 *     listener): ev->error is ERR_SERVER_NOT_RUNNING, for this callback only
 *     ('close' listeners never see an error).
 * As in Node, every close() made when no connection is open is followed by
 * its own 'close' event (all 'close' listeners run again): close() twice
 * emits 'close' twice, and close(cb) from inside a 'close' listener emits a
 * later 'close' whose call of cb carries ERR_SERVER_NOT_RUNNING. close()
 * while connections are open adds no event: the one 'close' follows the
 * last connection's. A server that already emitted 'close' and is kept by a
 * retain is closed again the same way. The server may listen again after
 * 'close' (from a 'close' listener, or at any time if retained).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ENOMEM (nothing is scheduled).
 */
CNET_EXTERN int cnet_server_close(cnet_server_t *srv, cnet_server_cb on_close, void *arg);

/**
 * Closes the server if needed and frees it after its 'close' event, even if
 * it is retained. Idempotent; NULL is a no-op. Connections stay open.
 */
CNET_EXTERN void cnet_server_destroy(cnet_server_t *srv);

/**
 * server.address(): fills @p out with the bound address while listening.
 * When not listening (before 'listening', after a failed listen or a close),
 * a server that was ever asked to listen on a path gives that path (family
 * 0, port -1; an abstract name with its leading NUL, see "Unix socket
 * names"), as Node's address() returns its pipe name; otherwise
 * CNET_ERR_SERVER_NOT_RUNNING (Node's null).
 */
CNET_EXTERN int cnet_server_address(const cnet_server_t *srv, cnet_address_t *out);
/** server.listening */
CNET_EXTERN bool cnet_server_is_listening(const cnet_server_t *srv);
/** The number of open connections (server.getConnections() without the callback). */
CNET_EXTERN size_t cnet_server_connections(const cnet_server_t *srv);

typedef void (*cnet_count_cb)(cnet_server_t *srv, int err, size_t count, void *arg);
/** server.getConnections(cb): @p cb runs on a later loop turn with the count; for a
 * server that sent connections to other processes, once those answered (section 13:
 * @p err CNET_ERR_CHILD_CLOSED_BEFORE_REPLY, count 0, when a channel closed first). */
CNET_EXTERN int cnet_server_get_connections(cnet_server_t *srv, cnet_count_cb cb, void *arg);
/** server.maxConnections; 0 removes the limit. Excess connections are closed and reported by
 * 'drop'. */
CNET_EXTERN int cnet_server_set_max_connections(cnet_server_t *srv, int max);
/** Since 0.3: connections closed at accept because the block_list option denied their peer. */
CNET_EXTERN uint64_t cnet_server_blocked_count(const cnet_server_t *srv);
/**
 * server.pause(msecs) (Node v0.6): stop accepting connections for @p msecs
 * milliseconds (0: 1000), then accept again, for throttling new connections
 * against DoS attacks or other oversubscription. Connections arriving
 * meanwhile wait in the kernel's listen backlog (at most one of them is
 * taken from it by libuv and held), none gets a 'connection' before the
 * pause ends and none is lost: they are accepted then, in arrival order,
 * subject to maxConnections as usual. A pause while paused is ignored (as
 * Node's). close() ends the pause; connections still waiting are refused by
 * the kernel (reset) as for any closed listener. The paused server is still
 * listening, so it keeps the loop running unless unref'd; the pause timer
 * never does by itself.
 * Mechanism: libuv stops polling a listening handle whose connection
 * callback did not call uv_accept(); cnet does not call it while paused and
 * calls it when the pause ends, which resumes polling.
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_SERVER_NOT_RUNNING (not
 *   listening), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_server_pause(cnet_server_t *srv, unsigned msecs);
/** True while a cnet_server_pause() lasts. */
CNET_EXTERN bool cnet_server_is_paused(const cnet_server_t *srv);
/** server.ref() / unref(): whether a listening server keeps cnet_loop_run() going. */
CNET_EXTERN void cnet_server_ref(cnet_server_t *srv);
CNET_EXTERN void cnet_server_unref(cnet_server_t *srv);
/** Keeps @p srv allocated past its 'close' event until the matching release. */
CNET_EXTERN void cnet_server_retain(cnet_server_t *srv);
CNET_EXTERN void cnet_server_release(cnet_server_t *srv);
CNET_EXTERN void cnet_server_set_data(cnet_server_t *srv, void *data);
CNET_EXTERN void *cnet_server_get_data(const cnet_server_t *srv);
CNET_EXTERN cnet_loop_t *cnet_server_loop(const cnet_server_t *srv);

/* EventEmitter for servers; see the socket functions below for the rules. */
CNET_EXTERN int cnet_server_on(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                               void *arg);
CNET_EXTERN int cnet_server_on_ex(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                  void *arg, cnet_free_fn arg_free);
CNET_EXTERN int cnet_server_once(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                 void *arg);
CNET_EXTERN int cnet_server_prepend(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                    void *arg);
CNET_EXTERN int cnet_server_off(cnet_server_t *srv, cnet_event_type_t type, cnet_server_cb cb,
                                void *arg);
CNET_EXTERN int cnet_server_off_all(cnet_server_t *srv, cnet_event_type_t type);
CNET_EXTERN size_t cnet_server_listener_count(const cnet_server_t *srv, cnet_event_type_t type);

/* ------------------------------------------------------------------------
 * 6. SOCKETS
 * ------------------------------------------------------------------------ */

/**
 * node's onread callback (the `onread: {buffer, callback}` socket option):
 * @p nread bytes (> 0) were read into @p buf, the buffer you supplied (or
 * your buffer function last returned); nothing is copied. The next read
 * into that buffer comes only after this callback has returned (with a
 * buffer function, only once it hands that buffer out again), so keep the
 * bytes until then. Return false to stop reading (node's readStop):
 * nothing more is read, and unread bytes wait in the kernel, until
 * cnet_socket_resume() (or pipe(), which resumes). Any call is allowed here,
 * destroy included.
 */
typedef bool (*cnet_onread_fn)(cnet_socket_t *s, size_t nread, char *buf, void *arg);
/**
 * onread's buffer as a function (node's `buffer: () => Buffer`): returns the
 * buffer the next reads go into and stores its size in @p *len. Called once
 * the connection is up (before 'connect') and again after every
 * cnet_onread_fn call. NULL (or *len 0) keeps the current buffer; with no
 * buffer at all the first read fails: 'error' CNET_ENOBUFS (syscall "read").
 */
typedef char *(*cnet_onread_buffer_fn)(cnet_socket_t *s, size_t *len, void *arg);

/** new net.Socket(options). */
typedef struct cnet_socket_opts {
    size_t size;            /* sizeof the struct: set by CNET_SOCKET_OPTS_INIT */
    bool allow_half_open;   /* stay writable after the peer's FIN until end() */
    size_t high_water_mark; /* write highWaterMark in bytes; 0: 16 KiB */
    /*
     * Since 0.3: node's onread option, see "Reading into your own buffer".
     * Give onread and either onread_buffer with onread_buffer_len, or
     * onread_buffer_fn; anything else is CNET_ERR_INVALID_ARG_VALUE.
     */
    char *onread_buffer; /* yours: valid until 'close' (or until the function replaces it) */
    size_t onread_buffer_len;
    cnet_onread_buffer_fn onread_buffer_fn;
    cnet_onread_fn onread; /* NULL: no onread, reads are 'data' events */
    void *onread_arg;      /* passed to both functions */
    /* Since 0.3: AbortSignal (section 11). Its abort destroys the socket with
     * CNET_ABORT_ERR ('error' "The operation was aborted", then 'close'); an already
     * aborted one destroys it at once (the events follow). Retained until 'close'. */
    cnet_abort_signal_t *signal;
    /* Since 0.3: new net.Socket({fd, readable, writable}), see cnet_socket_new(). */
    bool has_fd;       /* wrap @c fd, an open, connected TCP or Unix stream socket */
    int fd;            /* with has_fd: the descriptor (>= 0), the socket's on success */
    bool not_readable; /* with has_fd: node's readable: false (never read) */
    bool not_writable; /* with has_fd: node's writable: false (writes refused, no FIN) */
} cnet_socket_opts_t;
#define CNET_SOCKET_OPTS_INIT CNET__OPTS_INIT(cnet_socket_opts_t)

/**
 * new net.Socket(): an unconnected socket on @p loop (NULL: default loop).
 * It is freed after its 'close' event; a socket that is never connected is
 * freed by cnet_socket_destroy().
 *
 * Sockets from descriptors (has_fd: node's new net.Socket({fd})): the socket
 * wraps @c fd, an open, connected stream socket made elsewhere (socketpair(2),
 * an inherited fd, one received over a Unix socket). TCP or Unix is told
 * from the fd itself (libuv's uv_guess_handle: SO_TYPE and the family of
 * getsockname; a FIFO counts as a pipe, as in node), then the fd is opened
 * with uv_tcp_open / uv_pipe_open (made non-blocking). The socket is
 * connected when this returns, as node's: no 'connect' or 'ready' is
 * emitted; cnet_socket_address() and cnet_socket_remote_address() answer at
 * once (read from the fd: getsockname/getpeername). Reading starts on a
 * later tick (so onread's buffer function is first called then, never
 * inside this call), unless paused meanwhile. allow_half_open works as for
 * any socket. not_readable (node's readable: false): nothing is ever read,
 * the socket is not readable, no 'end' comes, and once its writable side
 * has finished ('finish') it closes, as node's. not_writable (node's
 * writable: false): writes and end() with data are refused at once with
 * CNET_ERR_STREAM_WRITE_AFTER_END (node emits that as an 'error' and
 * destroys the socket) and no FIN is ever sent (node neither shuts it
 * down); after the peer's 'end' it closes, without a 'finish'. With both,
 * it stays open until destroyed. Without has_fd the three are ignored, as
 * node ignores readable/writable without an fd.
 * Ownership: on success the fd belongs to the socket, which closes it when
 * it is destroyed (the peer then sees a FIN, or a RST when bytes were left
 * unread, as for any socket). When this returns an error the fd was not
 * touched and is still yours.
 * @return 0, CNET_ENOMEM, CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_INVALID_ARG_VALUE
 *   (onread fields that do not fit together); with has_fd also
 *   CNET_ERR_OUT_OF_RANGE (fd < 0, as node's), CNET_ERR_INVALID_FD_TYPE (not
 *   a TCP or Unix stream: a regular file, a tty, a UDP socket, a closed fd;
 *   node's "Unsupported fd type"), CNET_EEXIST (the fd is already in use on
 *   this loop), or the error of making it non-blocking.
 */
CNET_EXTERN int cnet_socket_new(cnet_loop_t *loop, const cnet_socket_opts_t *opts,
                                cnet_socket_t **out);

/* Resolving host names (Node's dns.lookup() and the `lookup` connect option). ------ */

/* getaddrinfo flags for cnet_connect_opts_t.hints (Node's dns.ADDRCONFIG, V4MAPPED, ALL). */
#define CNET_AI_V4MAPPED   0x0008
#define CNET_AI_ALL        0x0010
#define CNET_AI_ADDRCONFIG 0x0020

/** A pending custom lookup: the library's handle for cnet_lookup_done(). Opaque. */
typedef struct cnet_lookup_req cnet_lookup_req_t;

/**
 * What a resolver is asked for: Node's options to `lookup(hostname, options, cb)`.
 * Lent for the duration of the resolver call; grows only at the end.
 */
typedef struct cnet_lookup_info {
    int family; /* 0 (any), 4 or 6 */
    int hints;  /* CNET_AI_* flags, as given (with CNET_AI_ADDRCONFIG added as Node does) */
    bool all;   /* true: all addresses are wanted (Happy Eyeballs); false: one (more are tried) */
} cnet_lookup_info_t;

/**
 * A custom resolver (Node's `lookup` connect option), called instead of
 * getaddrinfo for a host that is not an IP literal, from inside the connect
 * call, with @p hostname (borrowed for the call) and @p info. It answers
 * later, or at once, with cnet_lookup_done(@p req, ...): exactly once per
 * call. @p arg is cnet_connect_opts_t.lookup_arg.
 */
typedef void (*cnet_lookup_fn)(cnet_lookup_req_t *req, const char *hostname,
                               const cnet_lookup_info_t *info, void *arg);

/**
 * Completes a custom lookup: @p status 0 with @p naddrs addresses (address
 * text and family of each; port is ignored; copied, so the array may be
 * reused at once), or a negative CNET_E* code (then @p addrs is ignored).
 * Call it exactly once per resolver call, from the thread of the socket's
 * loop, at any time: inside the resolver itself or from a later callback.
 * Nothing runs inside this call: the answer is processed on a later tick
 * ('lookup' events, then the connect attempts or 'error').
 * The answer is validated as Node does: an address that is not an IP is
 * ERR_INVALID_IP_ADDRESS, a family other than 4 or 6 is
 * ERR_INVALID_ADDRESS_FAMILY (with Happy Eyeballs such addresses are skipped,
 * and the error comes only when none is usable; without it the first address
 * is judged, and unusable ones after it are skipped), no address at all is
 * ERR_INVALID_IP_ADDRESS ("Invalid IP address: undefined", as Node says for a
 * lookup that gives no address); an error status arrives as 'lookup' with
 * that error, then 'error' (code @p status, hostname set, syscall NULL).
 * Lifetime: @p req stays valid until this call, even when the socket is
 * destroyed or freed meanwhile (the answer is then dropped); it is invalid
 * afterwards. A resolver that never answers leaks its request (a few hundred
 * bytes), nothing else; note that a pending custom lookup does not keep the
 * loop running by itself: whatever the resolver waits on must.
 * @return 0; CNET_ERR_INVALID_ARG_TYPE when @p req is NULL or @p addrs is NULL
 *   with @p naddrs > 0 (the request then stays pending); a second call is a
 *   bug that is detected (CNET_ERR_INVALID_ARG_VALUE) only while the socket
 *   still holds the request.
 */
CNET_EXTERN int cnet_lookup_done(cnet_lookup_req_t *req, int status, const cnet_address_t *addrs,
                                 size_t naddrs);
/** True when the socket of @p req let go of it (destroyed): the answer will be dropped. */
CNET_EXTERN bool cnet_lookup_is_cancelled(const cnet_lookup_req_t *req);

/* Happy Eyeballs (Node's autoSelectFamily). ------------------------------------- */

/* cnet_connect_opts_t.auto_select_family: zero is the process default. */
#define CNET_AUTO_SELECT_FAMILY_DEFAULT 0
#define CNET_AUTO_SELECT_FAMILY_ON      1
#define CNET_AUTO_SELECT_FAMILY_OFF     (-1)

/**
 * net.getDefaultAutoSelectFamily() / setDefaultAutoSelectFamily(): the
 * autoSelectFamily used by connects that leave the option at its default;
 * true at start, as in Node 20. A connect reads it once, when it is called.
 * Unlike the rest of the API these two may be called from any thread (the
 * value is an atomic).
 */
CNET_EXTERN bool cnet_get_default_auto_select_family(void);
CNET_EXTERN void cnet_set_default_auto_select_family(bool enable);
/**
 * net.getDefaultAutoSelectFamilyAttemptTimeout() / set...(): the per-attempt
 * timeout in ms (250 at start). The setter, like Node's, rounds values below
 * 10 up to 10 and refuses 0 and values above INT32_MAX with
 * CNET_ERR_OUT_OF_RANGE (changing nothing). Any thread, as above.
 */
CNET_EXTERN unsigned cnet_get_default_auto_select_family_attempt_timeout(void);
CNET_EXTERN int cnet_set_default_auto_select_family_attempt_timeout(unsigned ms);

/** socket.connect(options). family 0 lets the lookup choose, 4 or 6 forces it. */
typedef struct cnet_connect_opts {
    size_t size; /* sizeof the struct: set by CNET_CONNECT_OPTS_INIT */
    int port;
    const char *host;          /* NULL: "localhost" */
    const char *path;          /* a Unix socket path instead of host/port */
    const char *local_address; /* bind before connecting */
    int local_port;
    int family;          /* 0, 4 or 6 */
    unsigned timeout_ms; /* setTimeout() once created; 0: none */
    bool no_delay;
    bool keep_alive;
    unsigned keep_alive_initial_delay_ms;
    bool allow_half_open; /* net.connect() options carry it too */
    /* Since 0.3; each zero value is the default. */
    /* CNET_AUTO_SELECT_FAMILY_DEFAULT (the process default), _ON, _OFF (the addresses one
     * after another, see cnet_socket_connect_opts()) */
    int auto_select_family;
    unsigned auto_select_family_attempt_timeout_ms; /* 0: the process default; < 10: 10 */
    int hints;             /* CNET_AI_* for the lookup; 0: CNET_AI_ADDRCONFIG when family is 0 */
    cnet_lookup_fn lookup; /* custom resolver instead of getaddrinfo, or NULL */
    void *lookup_arg;      /* passed to lookup */
    /*
     * Since 0.3: net.connect({onread}), as in cnet_socket_opts_t. Only
     * cnet_create_connection() (and so net.connect) uses them, as node's
     * Socket constructor does; cnet_socket_connect_opts() on an existing
     * socket ignores them, as node's socket.connect() does.
     */
    char *onread_buffer;
    size_t onread_buffer_len;
    cnet_onread_buffer_fn onread_buffer_fn;
    cnet_onread_fn onread;
    void *onread_arg;
    /* Since 0.3: AbortSignal, as cnet_socket_opts_t's (net.connect({signal})): its abort
     * destroys the socket with CNET_ABORT_ERR; an already aborted one starts nothing. */
    cnet_abort_signal_t *signal;
    /* Since 0.3: the length of path, as cnet_listen_opts_t.path_len (an abstract name
     * needs it); 0: path is NUL-terminated. */
    size_t path_len;
} cnet_connect_opts_t;
#define CNET_CONNECT_OPTS_INIT CNET__OPTS_INIT(cnet_connect_opts_t)

/**
 * socket.connect(options, connectListener). @p on_connect (may be NULL) is
 * added as a once 'connect' listener. Writes made before the connection is
 * up are queued. A closed, retained socket may connect again.
 *
 * Events, as Node v20 emits them, all after this call returns:
 *   - An IP literal is not looked up; its connect(2) is made on a later tick,
 *     so a destroy() in the same tick sends nothing. A path connects at once.
 *   - Other host names are resolved by getaddrinfo on libuv's threadpool (or
 *     by @c lookup) and reported by 'lookup'.
 *   - Each connect(2) is announced by 'connectionAttempt' and, if it fails,
 *     followed by 'connectionAttemptFailed'; then 'connect' and 'ready', or
 *     'error' and 'close'.
 *   - Happy Eyeballs (autoSelectFamily, on by default) is used when the host
 *     is a name, family is 0 and local_address is NULL: the lookup asks for
 *     every address (one 'lookup' each), duplicates are dropped, and the
 *     addresses are tried one at a time alternating the families, starting
 *     with the family of the first address. An attempt that has not finished
 *     after the attempt timeout (default 250 ms) is abandoned
 *     ('connectionAttemptTimeout') and the next address is tried; the last
 *     one has no timeout. If every attempt fails, 'error' carries Node's
 *     AggregateError (cnet_error_t.attempts). A name with a single usable
 *     address connects as without Happy Eyeballs.
 *   - Without it (auto_select_family OFF, a family, or a local_address) the
 *     lookup asks for one address, as in Node, and one 'lookup' reports the
 *     first address of the answer, which is tried first. Unlike Node, which
 *     tries only that one, an attempt that fails is followed by the next
 *     usable address of the answer (getaddrinfo gives them all; a custom
 *     lookup may give several though asked for one), sequentially: each
 *     only after the previous one failed (a failed bind included), with no
 *     timeout, each with the events of Node's single attempt. If every
 *     attempt fails, 'error' is the last attempt's error (not an aggregate).
 * Errors: a failed connect reports syscall "connect" and the remote address
 * and port (the port only when > 0, as Node), plus the local endpoint when
 * bound to a local port; a failed local bind (local_address or local_port
 * busy, not on this machine, or of the other family) reports syscall "bind"
 * and the local address and port; both destroy the socket unless another
 * address is left to try (Happy Eyeballs, or the sequential fallback).
 * @return 0, or at once (scheduling nothing): CNET_ERR_MISSING_ARGS (@p opts
 *   NULL), CNET_ERR_INVALID_ARG_TYPE (@p s NULL), CNET_ERR_SOCKET_BAD_PORT,
 *   CNET_ENAMETOOLONG, CNET_EINVAL (an abstract name off Linux; see "Unix
 *   socket names" in section 5 for path_len), CNET_ERR_INVALID_IP_ADDRESS (local_address),
 *   CNET_ERR_INVALID_ARG_VALUE (family, auto_select_family, hints other
 *   than CNET_AI_* with getaddrinfo, an empty host), CNET_ERR_OUT_OF_RANGE
 *   (attempt timeout above INT32_MAX), CNET_ERR_SOCKET_CONNECTING,
 *   CNET_ERR_STREAM_DESTROYED, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_connect_opts(cnet_socket_t *s, const cnet_connect_opts_t *opts,
                                         cnet_socket_cb on_connect, void *arg);
/** socket.connect(port, host, connectListener). See cnet_socket_connect_opts(). */
CNET_EXTERN int cnet_socket_connect(cnet_socket_t *s, int port, const char *host,
                                    cnet_socket_cb on_connect, void *arg);
/** socket.connect(path, connectListener). See cnet_socket_connect_opts(). */
CNET_EXTERN int cnet_socket_connect_path(cnet_socket_t *s, const char *path,
                                         cnet_socket_cb on_connect, void *arg);

/**
 * net.createConnection(options, connectListener): new socket + connect in
 * one call on @p loop (NULL: default). On failure nothing is created.
 * @return as cnet_socket_connect_opts(); CNET_ERR_MISSING_ARGS when @p opts
 *   is NULL, CNET_ERR_INVALID_ARG_TYPE when @p out is NULL,
 *   CNET_ERR_INVALID_ARG_VALUE for onread fields that do not fit together.
 */
CNET_EXTERN int cnet_create_connection(cnet_loop_t *loop, const cnet_connect_opts_t *opts,
                                       cnet_socket_cb on_connect, void *arg, cnet_socket_t **out);
/** net.connect(port, host, listener) on the default loop; NULL on any error. */
CNET_EXTERN cnet_socket_t *cnet_connect(int port, const char *host, cnet_socket_cb on_connect,
                                        void *arg);
/** net.connect(path, listener) on the default loop; NULL on any error. */
CNET_EXTERN cnet_socket_t *cnet_connect_path(const char *path, cnet_socket_cb on_connect,
                                             void *arg);

/* Writing. ---------------------------------------------------------------- */

typedef void (*cnet_write_cb)(cnet_socket_t *s, int status, void *arg);

/**
 * socket.write(data, callback). The bytes are copied (or sent at once if the
 * kernel takes them all), so @p data may be reused when this returns.
 * @p cb (may be NULL) runs on a later loop turn once the bytes are handed to
 * the kernel (status 0), or with a negative status if the socket is
 * destroyed or fails first; callbacks run in write order, before 'close'.
 * Writes before 'connect' are queued; if the socket is destroyed (or the
 * connect fails) before it connects, the first one's callback gets
 * CNET_ERR_SOCKET_CLOSED_BEFORE_CONNECTION and the later ones the error that
 * destroyed the socket, or the same code without one (Node's codes). Once
 * connected, a write cancelled by destroy gets CNET_ECANCELED. @p len may be any size up to
 * SSIZE_MAX (4 GiB and more is sent whole). @p data NULL with @p len 0 is an
 * empty write. The accepted bytes count in cnet_socket_bytes_written() at once.
 * A writer that ignores the 1 is not refused, as in Node: every later write
 * is accepted and queued whole (write() keeps returning 1, writableLength
 * grows by each write's bytes, and memory with it, bounded only by
 * CNET_ENOMEM), nothing is dropped, and one 'drain' comes once the whole
 * queue has been handed to the kernel. A peer that never reads thus costs
 * such a writer all it writes; one that waits for 'drain' keeps at most the
 * highWaterMark plus its last write queued (tests/test_faults.c).
 * @return 0 when more may be written, 1 when the queue has reached the
 *   highWaterMark (Node's `false`: wait for 'drain', which then comes once),
 *   or at once, checked in this order: CNET_ERR_INVALID_ARG_TYPE (@p s NULL),
 *   CNET_ERR_STREAM_NULL_VALUES (@p data NULL with @p len > 0: Node's
 *   write(null), refused whatever the socket's state),
 *   CNET_ERR_STREAM_DESTROYED, CNET_ERR_STREAM_WRITE_AFTER_END,
 *   CNET_ERR_SOCKET_CLOSED (never connected), CNET_ERR_OUT_OF_RANGE (@p len
 *   over SSIZE_MAX), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_write(cnet_socket_t *s, const void *data, size_t len, cnet_write_cb cb,
                                  void *arg);
/** cnet_socket_write() of a NUL-terminated string, no callback; NULL is
 * CNET_ERR_STREAM_NULL_VALUES (Node's write(null)). */
CNET_EXTERN int cnet_socket_write_str(cnet_socket_t *s, const char *str);

/** One buffer of a vectored write. */
typedef struct cnet_buf {
    const void *base;
    size_t len;
} cnet_buf_t;

/* Ownership sentinels for cnet_socket_write_ex(), after SQLite. */
#define CNET_BUF_STATIC    ((cnet_free_fn)0)  /* caller keeps the bytes alive until cb */
#define CNET_BUF_TRANSIENT ((cnet_free_fn)-1) /* copy now */

/**
 * Vectored, optionally zero-copy write. The array of descriptors is always
 * copied. @p dispose decides who owns the bytes: CNET_BUF_TRANSIENT (copied
 * now), CNET_BUF_STATIC (not copied; they must stay valid until @p cb runs),
 * or a function the library calls exactly once on each bufs[i].base when it
 * no longer needs it — also when this call fails or the socket is destroyed.
 * Returns as cnet_socket_write(); a buffer with a NULL base and a length is
 * CNET_ERR_STREAM_NULL_VALUES, lengths summing past SSIZE_MAX or more than
 * UINT32_MAX buffers are CNET_ERR_OUT_OF_RANGE (@p bufs NULL with @p nbufs > 0
 * is CNET_ERR_INVALID_ARG_TYPE). On every error @p dispose has already run.
 */
CNET_EXTERN int cnet_socket_write_ex(cnet_socket_t *s, const cnet_buf_t *bufs, size_t nbufs,
                                     cnet_free_fn dispose, cnet_write_cb cb, void *arg);

/**
 * socket.end(data, callback): write @p data (may be NULL/0), then half-close
 * (FIN) once every queued write is flushed and every write callback has run;
 * 'finish' follows. @p cb (may be NULL) runs with status 0 just before
 * 'finish', or with CNET_ECANCELED before 'close' if the socket is destroyed
 * first. No 'drain' is emitted after end().
 *
 * end() on a socket that is already ending — by an earlier end(), by the
 * library's own end after the peer's FIN (allowHalfOpen false), or by
 * cnet_socket_pipe() with end — is as in Node: without data (@p len 0) it
 * returns 0 and @p cb joins the callbacks run just before 'finish' (status
 * 0; each callback of every end() runs once, in call order), or gets
 * CNET_ECANCELED at destroy; once 'finish' has come, @p cb gets
 * CNET_ERR_STREAM_ALREADY_FINISHED on a later loop turn. With data it is
 * refused with CNET_ERR_STREAM_WRITE_AFTER_END (Node emits that error and
 * destroys the socket; here it is returned, nothing is scheduled and the
 * socket stays as it was). A returned 0 means @p cb will run exactly once.
 * @return 0, or at once: CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_STREAM_NULL_VALUES
 *   (@p data NULL with @p len > 0), CNET_ERR_STREAM_DESTROYED,
 *   CNET_ERR_SOCKET_CLOSED, CNET_ERR_STREAM_WRITE_AFTER_END, the errors of
 *   cnet_socket_write(), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_end(cnet_socket_t *s, const void *data, size_t len, cnet_write_cb cb,
                                void *arg);
/** cnet_socket_end() with a NUL-terminated string (may be NULL). */
CNET_EXTERN int cnet_socket_end_str(cnet_socket_t *s, const char *str);

/**
 * socket.cork() / uncork(): while corked, writes are only queued; uncork()
 * (as many times as cork()) sends them together in one writev.
 */
CNET_EXTERN void cnet_socket_cork(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_uncork(cnet_socket_t *s);

/**
 * src.pipe(dst, {end}): every byte read from @p src is written to @p dst,
 * with backpressure: when dst's write returns 1, src is paused until dst's
 * 'drain'. With @p end, dst is ended (after its queue flushes) when src
 * emits 'end'. The pipe is undone when either side closes or dst refuses a
 * write; errors are not forwarded (as in Node: listen for 'error' on both).
 * Starts src flowing (resume).
 * A socket may be piped to itself (the seeds' echo server: c.pipe(c)).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE,
 *   CNET_ERR_STREAM_DESTROYED, CNET_ERR_STREAM_ALREADY_PIPED, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_pipe(cnet_socket_t *src, cnet_socket_t *dst, bool end);
/** src.unpipe(): undoes cnet_socket_pipe(); a source paused by it is resumed. No-op if not piped.
 */
CNET_EXTERN int cnet_socket_unpipe(cnet_socket_t *src);

/* Ending the socket. --------------------------------------------------------- */

/**
 * socket.destroy(): close now. Queued writes are dropped and their callbacks
 * get CNET_ECANCELED (CNET_ERR_SOCKET_CLOSED_BEFORE_CONNECTION while still
 * connecting, see cnet_socket_write()); 'close' (had_error false) follows on
 * a later turn. Safe
 * inside any callback, idempotent, NULL is a no-op.
 */
CNET_EXTERN void cnet_socket_destroy(cnet_socket_t *s);
/** socket.destroy(err): as cnet_socket_destroy(), then 'error' with @p code, then 'close'
 * (had_error true). */
CNET_EXTERN void cnet_socket_destroy_with_error(cnet_socket_t *s, int code);
/**
 * socket.destroy(err) with an error of your own (since 0.3): as
 * cnet_socket_destroy_with_error(), and the 'error' event's error carries
 * @p code and @p message (copied at once, up to 511 bytes; NULL: the code's
 * own message), with no syscall, address or port: what node's 'error' gets
 * from `destroy(Object.assign(new Error(message), {code}))`. A @p code that
 * is not negative becomes CNET_ERR_INVALID_ARG_VALUE. No-op on a destroyed
 * socket (no 'error' then, as in node) and on NULL.
 */
CNET_EXTERN void cnet_socket_destroy_with_message(cnet_socket_t *s, int code, const char *message);
/**
 * socket.resetAndDestroy(): destroy, closing with a TCP RST (SO_LINGER 0)
 * instead of a FIN, so the peer's next read fails with ECONNRESET (unless it
 * still had unread bytes: then the kernel reports them and an EOF, as in
 * Node). Also while a shutdown is pending (after end(), or the auto-end after
 * the peer's FIN): that shutdown is cancelled, the end() callbacks get
 * CNET_ECANCELED and 'close' comes (Node v20 emits 'error' EINVAL 'reset'
 * there and never closes the handle). On a socket still connecting, as Node:
 * nothing happens until 'connect' (its listeners added before this call run
 * first), then the socket is reset; 'ready' still follows, then 'close'. A
 * failed connect is reported as usual. The wait is, as in Node, a once
 * 'connect' listener: it counts in cnet_socket_listener_count(), and
 * removing every 'connect' listener (off_all) cancels the reset. On a socket that never connected
 * (no handle): Node's destroy(ERR_SOCKET_CLOSED), i.e. 'error'
 * ERR_SOCKET_CLOSED then 'close' (had_error true).
 * @return 0, or at once: CNET_ERR_INVALID_ARG_TYPE (NULL),
 *   CNET_ERR_STREAM_DESTROYED, CNET_ERR_INVALID_HANDLE_TYPE (a Unix socket,
 *   also while connecting: Node throws), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_reset_and_destroy(cnet_socket_t *s);

/* Reading. ------------------------------------------------------------------ */

/** socket.pause(): stop 'data' events; unread bytes wait in the kernel, none is lost. */
CNET_EXTERN void cnet_socket_pause(cnet_socket_t *s);
/** socket.resume(); also restarts reading that an onread callback stopped by returning false. */
CNET_EXTERN void cnet_socket_resume(cnet_socket_t *s);
/** socket.isPaused() */
CNET_EXTERN bool cnet_socket_is_paused(const cnet_socket_t *s);

/*
 * Reading into your own buffer (node's onread option; since 0.3). With
 * cnet_socket_opts_t.onread (or cnet_connect_opts_t's, for
 * cnet_create_connection), every read goes straight from the kernel into
 * your buffer and your callback gets it: no copy, no 'data' event. Then:
 *   - 'data' is never emitted; setEncoding and framing do not apply to what
 *     is read (cnet_socket_set_encoding() still succeeds, as in node, and
 *     framing still frames cnet_socket_write_frame()), and pipe() moves no
 *     bytes: the source's 'end' still ends the destination (node does the
 *     same, since pipe() feeds on 'data').
 *   - 'end' comes at EOF as usual, then 'finish'/'close' as usual; bytesRead
 *     and setTimeout count these reads.
 *   - a callback returning false stops reading; cnet_socket_is_paused()
 *     stays false (node's isPaused() too) and cnet_socket_resume() restarts.
 *     pause()/resume() work as on any socket.
 *   - a read error destroys the socket with 'error' (syscall "read").
 * Accepted sockets have no onread (node's server has no such option).
 */

/* Options. ------------------------------------------------------------------ */

/**
 * socket.setTimeout(ms, cb): emit 'timeout' after @p ms without reads or
 * writes. Notify-only (the socket stays open), re-armed by any I/O.
 * With @p ms > 0, @p cb (may be NULL) is added as a once 'timeout' listener
 * (twice if given twice, as in node). With @p ms 0 the timeout is disabled
 * and @p cb, if given, is removed as a 'timeout' listener (node's
 * removeListener: the most recently added one with that cb and arg).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_STREAM_DESTROYED (node
 *   ignores the call then), CNET_ENOMEM; a failed call changes nothing.
 */
CNET_EXTERN int cnet_socket_set_timeout(cnet_socket_t *s, unsigned ms, cnet_socket_cb cb,
                                        void *arg);
/** socket.timeout: the current idle timeout in ms, 0 when none (or never set). */
CNET_EXTERN unsigned cnet_socket_get_timeout(const cnet_socket_t *s);
/**
 * Whether socket.timeout is defined (since 0.3): true once a
 * cnet_socket_set_timeout() succeeded, even with 0 (or connect's timeout_ms
 * gave one); false before, where node's socket.timeout is undefined. The
 * value is then cnet_socket_get_timeout().
 */
CNET_EXTERN bool cnet_socket_has_timeout(const cnet_socket_t *s);
/** socket.setNoDelay(enable); applied at connect if called earlier. */
CNET_EXTERN int cnet_socket_set_no_delay(cnet_socket_t *s, bool enable);
/**
 * socket.setKeepAlive(enable, initialDelay in ms); applied at connect if
 * called earlier. As node, the delay is truncated to whole seconds: under
 * 1000 ms only SO_KEEPALIVE is set and the system's TCP_KEEPIDLE (and
 * TCP_KEEPINTVL, TCP_KEEPCNT) are left as they are; from 1000 ms on,
 * TCP_KEEPIDLE is that many seconds, TCP_KEEPINTVL 1 and TCP_KEEPCNT 10.
 * A call that changes neither the switch nor the seconds makes no system
 * call (node's rule). No-op on a Unix socket. The keep_alive_initial_delay_ms
 * of cnet_server_opts_t and cnet_connect_opts_t follow the same rule.
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, or the setsockopt error (CNET_E*).
 */
CNET_EXTERN int cnet_socket_set_keep_alive(cnet_socket_t *s, bool enable,
                                           unsigned initial_delay_ms);
/**
 * writableHighWaterMark: the write queue size at which write() returns 1.
 * It is also what cnet_socket_readable_high_water_mark() reports.
 */
CNET_EXTERN int cnet_socket_set_high_water_mark(cnet_socket_t *s, size_t bytes);
CNET_EXTERN size_t cnet_socket_get_high_water_mark(const cnet_socket_t *s);
/** socket.ref() / unref(): whether this socket keeps cnet_loop_run() going. */
CNET_EXTERN void cnet_socket_ref(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_unref(cnet_socket_t *s);
/** Keeps @p s allocated past its 'close' event until the matching release. */
CNET_EXTERN void cnet_socket_retain(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_release(cnet_socket_t *s);
CNET_EXTERN void cnet_socket_set_data(cnet_socket_t *s, void *data);
CNET_EXTERN void *cnet_socket_get_data(const cnet_socket_t *s);
CNET_EXTERN cnet_loop_t *cnet_socket_loop(const cnet_socket_t *s);

/* State. -------------------------------------------------------------------- */

typedef enum {
    CNET_STATE_OPENING,    /* connecting */
    CNET_STATE_OPEN,       /* readable and writable */
    CNET_STATE_READ_ONLY,  /* we have ended our side */
    CNET_STATE_WRITE_ONLY, /* the peer has ended its side */
    CNET_STATE_CLOSED
} cnet_ready_state_t;

/** socket.readyState */
CNET_EXTERN cnet_ready_state_t cnet_socket_ready_state(const cnet_socket_t *s);
/** Node's readyState string: "opening", "open", "readOnly", "writeOnly", "closed". */
CNET_EXTERN const char *cnet_ready_state_name(cnet_ready_state_t state);
CNET_EXTERN bool cnet_socket_is_connecting(const cnet_socket_t *s); /* socket.connecting */
/* socket.pending: not connected yet, or destroyed (Node: no handle, or connecting). */
CNET_EXTERN bool cnet_socket_is_pending(const cnet_socket_t *s);
CNET_EXTERN bool cnet_socket_is_destroyed(const cnet_socket_t *s); /* socket.destroyed */
CNET_EXTERN bool cnet_socket_is_writable(const cnet_socket_t *s);  /* socket.writable */
CNET_EXTERN bool cnet_socket_is_readable(const cnet_socket_t *s);  /* socket.readable */
/** socket.writableLength (= bufferSize): bytes queued and not yet taken by the kernel. */
CNET_EXTERN size_t cnet_socket_writable_length(const cnet_socket_t *s);
/** socket.writableNeedDrain: write() returned 1 and 'drain' has not come yet. */
CNET_EXTERN bool cnet_socket_writable_need_drain(const cnet_socket_t *s);
CNET_EXTERN uint64_t cnet_socket_bytes_read(const cnet_socket_t *s); /* socket.bytesRead */
/**
 * socket.bytesWritten: the bytes write() and end() accepted, including those
 * still queued (while connecting, corked, or waiting for the kernel), as
 * Node counts them; bytes of writes that later fail or are cancelled still
 * count. Encoded writes count their encoded bytes. Reset by a reconnect.
 */
CNET_EXTERN uint64_t cnet_socket_bytes_written(const cnet_socket_t *s);
/** socket.writableCorked (since 0.3): cork() calls not yet undone by uncork(); end() resets it. */
CNET_EXTERN unsigned cnet_socket_writable_corked(const cnet_socket_t *s);
/** socket.writableEnded (since 0.3): end() was called (also the automatic one after 'end'). */
CNET_EXTERN bool cnet_socket_writable_ended(const cnet_socket_t *s);
/** socket.writableFinished (since 0.3): 'finish' was emitted (true in its listeners). */
CNET_EXTERN bool cnet_socket_writable_finished(const cnet_socket_t *s);
/**
 * socket.readableHighWaterMark (since 0.3): node's highWaterMark option sets
 * both sides, so this is cnet_socket_get_high_water_mark() (16 KiB unless
 * the socket or server options gave one). Informational: cnet does not
 * buffer reads in user space (see cnet_socket_pause()).
 */
CNET_EXTERN size_t cnet_socket_readable_high_water_mark(const cnet_socket_t *s);
/**
 * socket.readableEncoding (since 0.3): the canonical name of the encoding
 * set by cnet_socket_set_encoding() ("utf8", "hex", "latin1" for "binary",
 * "utf16le" for "ucs2"...), static; NULL for raw bytes.
 */
CNET_EXTERN const char *cnet_socket_readable_encoding(const cnet_socket_t *s);
/**
 * socket.server (since 0.3): the server that accepted @p s, NULL for a
 * client socket. The socket keeps the server allocated until its own
 * 'close' listeners have returned, so the pointer is valid until then
 * (also inside 'close'); afterwards, on a socket you retained, it is NULL.
 */
CNET_EXTERN cnet_server_t *cnet_socket_server(const cnet_socket_t *s);

/**
 * socket.remoteAddress / remotePort / remoteFamily in one call.
 * The endpoints are captured when the connection is established, so both
 * this and cnet_socket_address() keep answering once the socket is closed
 * (during and after 'close', on a retained socket), also after the peer
 * reset it, for client, accepted and Unix sockets alike (since 0.3). Node
 * keeps remoteAddress only if it was read while connected, and forgets
 * address() at destroy; see docs/design.md. A Unix socket's ends are paths
 * ("" for an unnamed one; an abstract name with its leading NUL, see "Unix
 * socket names" in section 5), with port -1 and family 0.
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ENOTCONN (never connected, or
 *   connecting again after a close).
 */
CNET_EXTERN int cnet_socket_remote_address(const cnet_socket_t *s, cnet_address_t *out);
/** socket.address() (localAddress / localPort / family). As cnet_socket_remote_address(). */
CNET_EXTERN int cnet_socket_address(const cnet_socket_t *s, cnet_address_t *out);
/**
 * The credentials of a Unix socket's peer (beyond node), as the kernel
 * recorded them when the connection was made (SO_PEERCRED): the process
 * that called connect() (seen from an accepted socket) or listen() (seen
 * from a client). Never changes.
 */
typedef struct cnet_peer_credentials {
    int64_t pid;  /* the peer's process id (-1 where the system does not tell it) */
    uint32_t uid; /* its effective user id */
    uint32_t gid; /* its effective group id */
} cnet_peer_credentials_t;

/**
 * Fills @p out with the credentials of the peer of @p s, a connected Unix
 * socket (accepted or client, filesystem path or abstract name), read from
 * the kernel at each call (one getsockopt; nothing is stored per socket).
 * They stay readable after the peer ended or closed its side, until @p s is
 * destroyed. A server that only serves its own user compares uid with
 * geteuid() in its 'connection' listener (examples/unix_peercred_server.c).
 * Linux: SO_PEERCRED; BSDs and macOS: getpeereid() (pid -1; macOS adds
 * LOCAL_PEERPID).
 * @return 0, or at once: CNET_ERR_INVALID_ARG_TYPE (NULL), CNET_ENOTSUP (a
 *   TCP socket), CNET_ENOTCONN (not connected yet: connecting or never
 *   connected), CNET_ERR_SOCKET_CLOSED (destroyed or closed), or the
 *   getsockopt's error.
 */
CNET_EXTERN int cnet_socket_peer_credentials(const cnet_socket_t *s, cnet_peer_credentials_t *out);

/**
 * socket.autoSelectFamilyAttemptedAddresses: the addresses (address, port,
 * family) the last connect tried with Happy Eyeballs, in order, including
 * the one that connected. Copies up to @p n of them into @p out (may be NULL
 * when @p n is 0) and returns how many there are: 0 when the last connect
 * did not use Happy Eyeballs (Node: undefined). Kept after 'close'.
 */
CNET_EXTERN size_t cnet_socket_auto_select_family_attempted_addresses(const cnet_socket_t *s,
                                                                      cnet_address_t *out,
                                                                      size_t n);

/* EventEmitter. --------------------------------------------------------------
 * Several listeners per event, called in the order added. An emit calls the
 * listeners registered when it began: one added during the emit is not called
 * in it, and one removed during it still is (Node's snapshot rule). A 'once'
 * listener is removed before it is called and never runs twice.
 * @p arg is passed back unchanged; with the _ex form, @p arg_free(arg) runs
 * when the listener is removed or the object is freed.
 * on/once/prepend return 0, CNET_ENOMEM, CNET_ERR_INVALID_ARG_TYPE (NULL cb),
 * CNET_ERR_INVALID_ARG_VALUE (bad type). off removes the most recently added
 * listener matching cb and arg (Node's removeListener); it returns 0 whether
 * or not one matched. off_all removes every listener of @p type; pass
 * CNET_EVENT_ALL to remove all of every type.
 */
CNET_EXTERN int cnet_socket_on(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                               void *arg);
CNET_EXTERN int cnet_socket_on_ex(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                  void *arg, cnet_free_fn arg_free);
CNET_EXTERN int cnet_socket_once(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                 void *arg);
CNET_EXTERN int cnet_socket_prepend(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                    void *arg);
CNET_EXTERN int cnet_socket_prepend_once(cnet_socket_t *s, cnet_event_type_t type,
                                         cnet_socket_cb cb, void *arg);
CNET_EXTERN int cnet_socket_off(cnet_socket_t *s, cnet_event_type_t type, cnet_socket_cb cb,
                                void *arg);
CNET_EXTERN int cnet_socket_off_all(cnet_socket_t *s, cnet_event_type_t type);
CNET_EXTERN size_t cnet_socket_listener_count(const cnet_socket_t *s, cnet_event_type_t type);

/* ------------------------------------------------------------------------
 * 7. ENCODINGS AND FRAMING
 * ------------------------------------------------------------------------ */

/**
 * socket.setEncoding(enc): 'data' events carry decoded strings (UTF-8 text
 * for "utf8"/"utf16le", one char per byte for "latin1"...), decoded with
 * Node's StringDecoder rules: characters split across reads are completed,
 * invalid bytes become U+FFFD where Node puts them, what is held back at
 * 'end' is flushed. NULL returns to raw bytes (beyond Node, whose
 * setEncoding(null) means utf8); "" means utf8, as in Node.
 * Names: utf8, utf-8, ascii, latin1, binary, base64, base64url, hex, utf16le,
 * utf-16le, ucs2, ucs-2 (case-insensitive, as Node).
 * @return 0, CNET_ERR_UNKNOWN_ENCODING.
 */
CNET_EXTERN int cnet_socket_set_encoding(cnet_socket_t *s, const char *encoding);

/**
 * socket.write(string, encoding, callback): encode @p str (UTF-8 text, @p len
 * bytes) as Node's Buffer.from(str, encoding) does, then write the bytes.
 * @p encoding NULL or "" means utf8, as in Node.
 * Returns as cnet_socket_write(), or CNET_ERR_UNKNOWN_ENCODING.
 */
CNET_EXTERN int cnet_socket_write_enc(cnet_socket_t *s, const char *str, size_t len,
                                      const char *encoding, cnet_write_cb cb, void *arg);
/** socket.end(string, encoding, callback); see cnet_socket_end() for an end() that comes again. */
CNET_EXTERN int cnet_socket_end_enc(cnet_socket_t *s, const char *str, size_t len,
                                    const char *encoding, cnet_write_cb cb, void *arg);

/*
 * Framing helpers (beyond Node). Opt-in per socket and layered on the byte
 * stream: once set, whole frames arrive as 'frame' events (the 'data' event
 * still fires with the raw bytes). No frame is split or lost across reads.
 * A frame over max_size is an error: the socket is destroyed with
 * CNET_ERR_FRAME_TOO_LARGE (length-prefixed, fixed) or CNET_ERR_LINE_TOO_LONG
 * (lines). At 'end', lines mode emits a trailing partial line as a last
 * frame; a partial length-prefixed or fixed frame at 'end' is dropped and
 * reported as 'error' CNET_ERR_STREAM_PREMATURE_CLOSE.
 */
typedef enum {
    CNET_FRAMING_NONE,
    CNET_FRAMING_LINES,           /* frames end with delimiter (not included in the frame) */
    CNET_FRAMING_LENGTH_PREFIXED, /* header of header_bytes holding the payload length */
    CNET_FRAMING_FIXED            /* records of exactly record_size bytes */
} cnet_framing_mode_t;

typedef struct cnet_framing_opts {
    size_t size; /* sizeof the struct: set by CNET_FRAMING_OPTS_INIT */
    cnet_framing_mode_t mode;
    const char *delimiter; /* LINES: NULL means "\n" */
    size_t delimiter_len;  /* LINES: 0 means strlen(delimiter) */
    size_t max_size;       /* LINES, LENGTH_PREFIXED: 0 means 1 MiB */
    unsigned header_bytes; /* LENGTH_PREFIXED: 1, 2, 4 or 8 */
    bool little_endian;    /* LENGTH_PREFIXED: header byte order (default big-endian) */
    size_t record_size;    /* FIXED: > 0 */
} cnet_framing_opts_t;
#define CNET_FRAMING_OPTS_INIT CNET__OPTS_INIT(cnet_framing_opts_t)

/**
 * Sets (or with mode NONE or @p opts NULL, removes) framing on @p s. Bytes
 * already buffered by a previous framing mode are discarded.
 * @return 0, CNET_ERR_INVALID_ARG_VALUE (bad header_bytes, zero record_size,
 *   empty delimiter), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_socket_set_framing(cnet_socket_t *s, const cnet_framing_opts_t *opts);

/**
 * Writes one frame in the socket's framing: the length header then @p data
 * (LENGTH_PREFIXED), or @p data then the delimiter (LINES), or @p data that
 * must be exactly record_size bytes (FIXED). Returns as cnet_socket_write(),
 * or CNET_ERR_FRAME_TOO_LARGE / CNET_ERR_INVALID_ARG_VALUE (also when no
 * framing mode is set).
 */
CNET_EXTERN int cnet_socket_write_frame(cnet_socket_t *s, const void *data, size_t len,
                                        cnet_write_cb cb, void *arg);

/* ------------------------------------------------------------------------
 * 8. ADDRESSES
 * ------------------------------------------------------------------------ */

/** net.isIP(input): 4, 6, or 0. NULL gives 0. Matches Node v20 exactly. */
CNET_EXTERN int cnet_is_ip(const char *input);
/** net.isIPv4(input) */
CNET_EXTERN bool cnet_is_ipv4(const char *input);
/** net.isIPv6(input) */
CNET_EXTERN bool cnet_is_ipv6(const char *input);

/** Room for an IP address's text with its NUL (INET6_ADDRSTRLEN). */
#define CNET_INET6_ADDRSTRLEN 46

/**
 * net.SocketAddress: an IP address, port and flow label, as a value. Every
 * field is set by cnet_socket_address_init() or cnet_socket_address_parse();
 * the struct is complete (it never changes) and is copied freely.
 */
typedef struct cnet_socket_address {
    char address[CNET_INET6_ADDRSTRLEN]; /* node's .address: "127.0.0.1", "::1" (no scope) */
    int family;                          /* 4 or 6 (node's 'ipv4' / 'ipv6') */
    int port;                            /* 0..65535 */
    uint32_t flowlabel;                  /* IPv6 flow label; 0 for IPv4 */
    uint32_t scope_id;                   /* IPv6: the index of a "%eth0" zone (node keeps it too) */
    unsigned char bytes[16];             /* network order; IPv4 uses the first 4 */
} cnet_socket_address_t;

/**
 * new net.SocketAddress({address, family, port, flowlabel}). @p family is 4
 * or 6 (0: 4, node's default 'ipv4'); @p address NULL is node's default for
 * the family ("127.0.0.1" or "::"). The address must be of that family: IPv4
 * in dotted-decimal form without leading zeros, IPv6 in any RFC 4291 form
 * with an optional "%zone" (the address text drops it, as node's does).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE (@p out NULL), CNET_ERR_INVALID_ARG_VALUE
 *   (family), CNET_ERR_SOCKET_BAD_PORT, CNET_ERR_OUT_OF_RANGE (@p flowlabel
 *   above 20 bits), CNET_ERR_INVALID_ADDRESS ("Invalid socket address");
 *   @p out is untouched on error.
 */
CNET_EXTERN int cnet_socket_address_init(cnet_socket_address_t *out, const char *address,
                                         int family, int port, uint32_t flowlabel);

/**
 * SocketAddress.parse(input) (node 22): "1.2.3.4", "1.2.3.4:80", "[::1]",
 * "[::1]:443". Stricter than node's, which goes through the URL parser: no
 * path, user or IPv4 shorthand ("127.1"), and ":80" is port 80 (node's URL
 * parser drops http's default port and yields 0). @return 0,
 * CNET_ERR_INVALID_ARG_TYPE (NULL), CNET_ERR_INVALID_ADDRESS (node's undefined).
 */
CNET_EXTERN int cnet_socket_address_parse(const char *input, cnet_socket_address_t *out);

/**
 * net.BlockList: rules that deny IP addresses (single addresses, inclusive
 * ranges, subnets), checked against a peer's address. Reference counted;
 * safe to share between loops and threads (rules are added under a
 * lock, checks take it shared). An IPv4 rule also matches the IPv4-mapped
 * IPv6 form (::ffff:a.b.c.d) and an IPv6 rule an IPv4 address in its mapped
 * form, exactly as node's: an IPv4 address against an IPv6 range compares
 * only when both ends are mapped addresses.
 *
 * @p family below is 4 or 6 (0: 4, node's default 'ipv4'); the address must
 * be of that family (see cnet_socket_address_init).
 */
CNET_EXTERN int cnet_blocklist_new(cnet_blocklist_t **out);
/** Another reference to @p bl (any thread). @return @p bl. */
CNET_EXTERN cnet_blocklist_t *cnet_blocklist_retain(cnet_blocklist_t *bl);
/** Drops a reference (any thread); the last one frees it. NULL: no-op. */
CNET_EXTERN void cnet_blocklist_release(cnet_blocklist_t *bl);
/**
 * blockList.addAddress(address, family). @return 0, CNET_ENOMEM,
 * CNET_ERR_INVALID_ARG_TYPE (NULL), CNET_ERR_INVALID_ARG_VALUE (family),
 * CNET_ERR_INVALID_ADDRESS.
 */
CNET_EXTERN int cnet_blocklist_add_address(cnet_blocklist_t *bl, const char *address, int family);
/**
 * blockList.addRange(start, end, family): every address from @p start to
 * @p end inclusive. @return as add_address, and CNET_ERR_INVALID_ARG_VALUE
 * when @p start comes after @p end (node: "The argument 'start' must come
 * before end").
 */
CNET_EXTERN int cnet_blocklist_add_range(cnet_blocklist_t *bl, const char *start, const char *end,
                                         int family);
/**
 * blockList.addSubnet(network, prefix, family): the addresses whose first
 * @p prefix bits are @p network's. @return as add_address, and
 * CNET_ERR_OUT_OF_RANGE for a prefix outside 0..32 (IPv4) or 0..128 (IPv6).
 */
CNET_EXTERN int cnet_blocklist_add_subnet(cnet_blocklist_t *bl, const char *network, int prefix,
                                          int family);
/**
 * blockList.check(address, family): true when a rule matches. An address
 * that is not valid for @p family is not blocked (node returns false).
 */
CNET_EXTERN bool cnet_blocklist_check(const cnet_blocklist_t *bl, const char *address, int family);
/** blockList.check(socketAddress). NULL arguments: false. */
CNET_EXTERN bool cnet_blocklist_check_address(const cnet_blocklist_t *bl,
                                              const cnet_socket_address_t *addr);
/** blockList.rules.length. */
CNET_EXTERN size_t cnet_blocklist_rule_count(const cnet_blocklist_t *bl);
/**
 * blockList.rules[index], newest rule first as in node: "Address: IPv4
 * 1.2.3.4", "Range: IPv6 ::1-::9", "Subnet: IPv4 10.0.0.0/8", written with
 * its NUL into @p buf (128 bytes always suffice). @return the text's length,
 * CNET_ERR_OUT_OF_RANGE (no such rule), CNET_ERR_INVALID_ARG_TYPE (NULL),
 * CNET_ENOBUFS (@p size too small; @p buf then holds an empty string).
 */
CNET_EXTERN int cnet_blocklist_rule(const cnet_blocklist_t *bl, size_t index, char *buf,
                                    size_t size);

/* ------------------------------------------------------------------------
 * 9. ALLOCATOR AND LOGGING
 * ------------------------------------------------------------------------ */

/**
 * Replaces the allocator for every allocation cnet makes (not libuv's: use
 * uv_replace_allocator for that). Call before creating any object. All four
 * must be given. Returns 0 or CNET_ERR_INVALID_ARG_TYPE.
 */
CNET_EXTERN int cnet_replace_allocator(void *(*malloc_fn)(size_t),
                                       void *(*realloc_fn)(void *, size_t),
                                       void *(*calloc_fn)(size_t, size_t), void (*free_fn)(void *));

typedef enum {
    CNET_LOG_ERROR,
    CNET_LOG_WARN,
    CNET_LOG_INFO,
    CNET_LOG_DEBUG,
    CNET_LOG_TRACE
} cnet_log_level_t;

/**
 * Installs a logger. The library never writes to stdout or stderr itself;
 * without a logger, messages are dropped. Messages of a level above
 * @p max_level are filtered before any formatting. Each message is one line
 * naming the object ("sock#42 ..."). @p fn NULL removes the logger.
 * An 'error' event with no listener is logged at CNET_LOG_WARN.
 */
CNET_EXTERN void cnet_set_logger(void (*fn)(void *arg, cnet_log_level_t level, const char *msg),
                                 void *arg, cnet_log_level_t max_level);

/* ------------------------------------------------------------------------
 * 10. TLS
 *
 * The parts of node's tls module that stand on their own: secure contexts
 * (tls.createSecureContext), certificates as getPeerCertificate() shows them,
 * and tls.checkServerIdentity(). TLS sockets (tls.connect, tls.createServer,
 * the seeds' setSecure) are built on them in a later release: docs/tls.md.
 *
 * OpenSSL 3 does the work; no OpenSSL type ever appears in this header
 * (<cnet/openssl.h> hands out OpenSSL's own objects), and cnet never changes
 * OpenSSL's global state. Built without OpenSSL (CNET_WITH_TLS=OFF), every
 * function of this section returns CNET_ERR_NO_CRYPTO (or does nothing).
 * ------------------------------------------------------------------------ */

/**
 * A secure context (node's SecureContext): a private key and certificate
 * chain, the trusted CAs and CRLs, and protocol settings, shared by any
 * number of connections on any number of loops and threads. Immutable once
 * created, reference counted, and thread-safe: unlike the other objects it
 * belongs to no loop.
 */
typedef struct cnet_tls_context_s cnet_tls_context_t;

/** Protocol versions (node's 'TLSv1' ... 'TLSv1.3'), by their wire numbers; 0 is the default. */
typedef enum {
    CNET_TLS_VERSION_DEFAULT = 0,
    CNET_TLSV1 = 0x0301,
    CNET_TLSV1_1 = 0x0302,
    CNET_TLSV1_2 = 0x0303,
    CNET_TLSV1_3 = 0x0304
} cnet_tls_version_t;

/** Node's name of @p version ("TLSv1.3"), or NULL for a value that is not a version. Static. */
CNET_EXTERN const char *cnet_tls_version_name(cnet_tls_version_t version);

/* Settings that default to on: 0 means the default, else CNET_TLS_ON or CNET_TLS_OFF. */
#define CNET_TLS_ON  1
#define CNET_TLS_OFF (-1)

/**
 * tls.createSecureContext(options) plus the options of tls.connect() and
 * tls.createServer() that belong to a context. Start from
 * CNET_TLS_CONTEXT_OPTS_INIT; every field's zero value is node's default.
 * PEM may be given in memory (@c key with @c key_len, 0 meaning strlen) or as
 * a file to read (@c key_file), not both. Nothing is kept: the context
 * copies what it needs, so every pointer may be freed once the call returns.
 */
typedef struct cnet_tls_context_opts {
    size_t size; /* sizeof the struct: set by CNET_TLS_CONTEXT_OPTS_INIT */
    /* Our identity: a private key and its certificate chain (leaf first, then
     * intermediates), for a server or for a client certificate. */
    const char *key; /* PEM private key (PKCS#8, traditional or encrypted) */
    size_t key_len;
    const char *key_file;
    const char *passphrase; /* for an encrypted key; NULL: an empty passphrase, as node */
    const char *cert;       /* PEM certificate chain */
    size_t cert_len;
    const char *cert_file;
    /* Trust. Without ca and ca_file, the system's CAs (Debian: ca-certificates,
     * /etc/ssl/certs); with them, only the CAs given, as node. PEM that holds
     * no certificate adds none, also as node. */
    const char *ca;
    size_t ca_len;
    const char *ca_file;
    const char *crl; /* PEM CRLs: then every certificate of a chain must have one (node) */
    size_t crl_len;
    const char *crl_file;
    bool allow_partial_trust_chain; /* trust an intermediate of ca as an anchor */
    /* Protocol. */
    const char *ciphers;            /* node's `ciphers`: NULL or "" is DEFAULT_CIPHERS; TLS_*
                                     * entries are the TLS 1.3 suites, the rest OpenSSL's list */
    const char *ciphersuites;       /* TLS 1.3 suites, replacing those taken from ciphers */
    cnet_tls_version_t min_version; /* 0: TLSv1.2 */
    cnet_tls_version_t max_version; /* 0: TLSv1.3 */
    bool honor_cipher_order;        /* server: our order of ciphers, not the client's */
    /* ALPN (ALPNProtocols), NULL-terminated, e.g. {"h2", "http/1.1", NULL}: a
     * client offers them, a server picks the first of its own that the
     * client offered and refuses the connection when none matches (node). */
    const char *const *alpn_protocols;
    int session_tickets;      /* CNET_TLS_OFF: no tickets, so no resumption */
    unsigned session_timeout; /* seconds a session may be resumed; 0: 7200 (as node) */
    /* Verification: the defaults of connections that use this context. */
    bool request_cert;       /* server: ask clients for a certificate */
    int reject_unauthorized; /* CNET_TLS_OFF: connect even when verification fails */
} cnet_tls_context_opts_t;
#define CNET_TLS_CONTEXT_OPTS_INIT CNET__OPTS_INIT(cnet_tls_context_opts_t)

/**
 * tls.createSecureContext(options): a new context with one reference, or
 * nothing. @p opts NULL takes every default (a client context trusting the
 * system's CAs). When @p errmsg is not NULL it receives node's err.message
 * for a failure (at most @p errmsg_size bytes, NUL-terminated), e.g.
 * "error:05800074:x509 certificate routines::key values mismatch".
 * Files are read on the calling thread.
 * @return 0, or: CNET_ERR_INVALID_ARG_TYPE (@p out NULL),
 *   CNET_ERR_INVALID_ARG_VALUE (options struct, a PEM given both ways,
 *   ciphers leaving no cipher at all, an empty ALPN name),
 *   CNET_ERR_OUT_OF_RANGE (an ALPN name over 255 bytes),
 *   CNET_ERR_TLS_INVALID_PROTOCOL_VERSION, -errno of a file (CNET_ENOENT...),
 *   OpenSSL's reason as node names it: CNET_ERR_OSSL_PEM_NO_START_LINE (no
 *   PEM), CNET_ERR_OSSL_UNSUPPORTED (a key OpenSSL cannot decode),
 *   CNET_ERR_OSSL_BAD_DECRYPT (wrong passphrase),
 *   CNET_ERR_OSSL_X509_KEY_VALUES_MISMATCH (key and certificate differ),
 *   CNET_ERR_SSL_NO_CIPHER_MATCH, ..., or CNET_ERR_OSSL_UNLISTED;
 *   CNET_ERR_CRYPTO_OPERATION_FAILED ("Failed to parse CRL"), CNET_ENOMEM,
 *   CNET_ERR_NO_CRYPTO.
 */
CNET_EXTERN int cnet_tls_context_new(const cnet_tls_context_opts_t *opts, cnet_tls_context_t **out,
                                     char *errmsg, size_t errmsg_size);
/** Adds a reference (any thread). Returns @p ctx; NULL is a no-op. */
CNET_EXTERN cnet_tls_context_t *cnet_tls_context_retain(cnet_tls_context_t *ctx);
/** Drops a reference (any thread); the last one frees the context. NULL is a no-op. */
CNET_EXTERN void cnet_tls_context_release(cnet_tls_context_t *ctx);

/* Certificates. --------------------------------------------------------------
 * Certificates and the identity check belong to no loop: any thread may use
 * them (one certificate from one thread at a time, or read-only from many). */

/** One attribute of a distinguished name, as node's subject object holds it. */
typedef struct cnet_tls_name_entry {
    const char *key;   /* OpenSSL's short name ("CN", "O", "emailAddress"), or the dotted OID */
    const char *value; /* UTF-8 */
} cnet_tls_name_entry_t;

/**
 * A subject or issuer name. Node's object form is the entries, flattened in
 * certificate order (node groups a repeated key into an array). This struct
 * never changes.
 */
typedef struct cnet_tls_name {
    const cnet_tls_name_entry_t *entries;
    size_t count;
    const char *text; /* one line, RFC 2253 escaping: "CN=localhost, O=cnet, C=US" (node's
                       * X509Certificate.subject with ", " between the lines) */
} cnet_tls_name_t;

/** The first value of @p key ("CN") in @p name, or NULL. */
CNET_EXTERN const char *cnet_tls_name_get(const cnet_tls_name_t *name, const char *key);

/**
 * A certificate as node's getPeerCertificate() shows it. Read-only; every
 * pointer in it is owned by the certificate and valid until
 * cnet_tls_cert_free(). Filled by the library, so it only grows at the end.
 */
typedef struct cnet_tls_cert cnet_tls_cert_t;
struct cnet_tls_cert {
    cnet_tls_name_t subject;
    cnet_tls_name_t issuer;
    const char *subjectaltname; /* "DNS:localhost, IP Address:127.0.0.1", NULL without the
                                 * extension; names with ',' '"' or control characters are
                                 * quoted and escaped as node does */
    bool ca;                    /* basicConstraints CA */
    int bits;                   /* key size of an RSA or EC key, else 0 */
    const char *valid_from;     /* "Jan  1 00:00:00 2030 GMT" */
    const char *valid_to;
    int64_t not_before; /* the same, in seconds since the epoch */
    int64_t not_after;
    const char *serial_number;  /* upper-case hex, "0A1B..." */
    const char *fingerprint;    /* SHA-1, "AB:CD:..." */
    const char *fingerprint256; /* SHA-256 */
    const char *fingerprint512; /* SHA-512 */
    const unsigned char *raw;   /* DER */
    size_t raw_len;
    /* The issuer chain (getPeerCertificate(true)): the certificate that
     * issued this one, NULL at the end. Node makes a self-signed root its
     * own issuerCertificate; here the chain ends there with NULL. */
    const cnet_tls_cert_t *issuer_certificate;
};

/**
 * Parses the first certificate of @p data (PEM, else DER; @p len 0 means
 * strlen), like node's new X509Certificate(). Free it with
 * cnet_tls_cert_free(). @p errmsg as for cnet_tls_context_new().
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_OSSL_PEM_NO_START_LINE (and
 *   OpenSSL's other reasons), CNET_ENOMEM, CNET_ERR_NO_CRYPTO.
 */
CNET_EXTERN int cnet_tls_cert_parse(const void *data, size_t len, const cnet_tls_cert_t **out,
                                    char *errmsg, size_t errmsg_size);
/** Frees @p cert and its issuer chain. NULL is a no-op. */
CNET_EXTERN void cnet_tls_cert_free(const cnet_tls_cert_t *cert);

/**
 * tls.checkServerIdentity(hostname, cert): whether @p cert is valid for
 * @p hostname by node's rules: an IP address only against the IP addresses
 * of subjectaltname; a name against its DNS names (one '*' in the first
 * label, not for "*.tld", not in an "xn--" label), or against the subject's
 * CN only when there is no DNS name. A trailing dot and A-Z case do not
 * matter. On a mismatch @p reason (may be NULL) receives node's err.reason,
 * e.g. "Host: x. is not in the cert's altnames: DNS:localhost"; the error's
 * message is cnet_strerror(code) + ": " + reason, as node's.
 * @return 0 (valid), CNET_ERR_TLS_CERT_ALTNAME_INVALID,
 *   CNET_ERR_TLS_CERT_ALTNAME_FORMAT (a badly quoted name), CNET_ENOMEM,
 *   CNET_ERR_INVALID_ARG_TYPE (NULL cert or hostname), CNET_ERR_NO_CRYPTO.
 */
CNET_EXTERN int cnet_tls_check_server_identity(const char *hostname, const cnet_tls_cert_t *cert,
                                               char *reason, size_t reason_size);

/* ------------------------------------------------------------------------
 * 11. CANCELLATION (AbortController, AbortSignal)
 *
 * Node's AbortController: a controller owns a signal; pass the signal in the
 * `signal` field of cnet_listen_opts_t, cnet_socket_opts_t or
 * cnet_connect_opts_t, and cnet_abort_controller_abort() cancels what uses
 * it, as Node does:
 *   - a server is closed (cnet_server_close() without a callback): 'close'
 *     follows, after its connections' as usual; a pending bind or lookup is
 *     cancelled. An already aborted signal closes it on the next tick, before
 *     'listening' (Node binds first, so a bind error still comes as 'error').
 *   - a socket is destroyed with CNET_ABORT_ERR (Node's AbortError: code
 *     "ABORT_ERR", message "The operation was aborted", no syscall): 'error'
 *     then 'close' (had_error true) follow on later ticks; a connect in
 *     progress is cancelled. An already aborted signal destroys the socket
 *     in cnet_socket_new() / the connect call, before anything is started.
 * The abort itself runs inside cnet_abort_controller_abort() (servers stop
 * listening, sockets are destroyed), but no listener of theirs runs inside
 * it: their events come on later ticks. A server or socket stops listening
 * to its signal when it emits 'close'; aborting afterwards does nothing.
 * A signal is counted: it stays allocated while a server or socket uses it,
 * so the controller may be freed at any time, also from inside any callback.
 * A controller belongs to one thread (that of the objects using it).
 * ------------------------------------------------------------------------ */

/** new AbortController(). @return 0, CNET_ERR_INVALID_ARG_TYPE (out is NULL), CNET_ENOMEM. */
CNET_EXTERN int cnet_abort_controller_new(cnet_abort_controller_t **out);
/** controller.signal: valid until cnet_abort_controller_free(@p ac). NULL for NULL. */
CNET_EXTERN cnet_abort_signal_t *cnet_abort_controller_signal(cnet_abort_controller_t *ac);
/** controller.abort(): aborts the signal (see above); later calls do nothing. NULL: no-op. */
CNET_EXTERN void cnet_abort_controller_abort(cnet_abort_controller_t *ac);
/** Frees the controller; its signal lives on while objects use it. NULL: no-op. */
CNET_EXTERN void cnet_abort_controller_free(cnet_abort_controller_t *ac);
/** signal.aborted. False for NULL. */
CNET_EXTERN bool cnet_abort_signal_is_aborted(const cnet_abort_signal_t *sig);

/* ------------------------------------------------------------------------
 * 12. TLS SOCKETS (tls.connect, tls.createServer, new TLSSocket)
 *
 * A TLS socket IS a cnet_socket_t: TLS is a layer in its byte path, so
 * every socket call (write, end, cork, pause, setEncoding, framing, pipe,
 * setTimeout, destroy) keeps its meaning, over plaintext. What differs:
 *   - Writes made before the handshake is done are held and sent, in order,
 *     once it is ('secure'). A write's callback runs when its ciphertext has
 *     been handed to the kernel; writableLength and the highWaterMark count
 *     held plaintext, then queued ciphertext (slightly more than node).
 *   - end() sends close_notify, then FIN. The peer's close_notify is 'end'
 *     (allowHalfOpen applies); a FIN without close_notify once established is
 *     also 'end', as node; during the handshake it fails the socket with
 *     ECONNRESET "Client network socket disconnected before secure TLS
 *     connection was established" (client), as node.
 *   - A failed handshake or verification destroys the socket: 'error' with
 *     node's code and message (CNET_DEPTH_ZERO_SELF_SIGNED_CERT,
 *     CNET_ERR_TLS_CERT_ALTNAME_INVALID, CNET_ERR_SSL_..., see section 10),
 *     then 'close'.
 *   - Events (all on later loop turns): once the handshake is done and
 *     accepted, a client's 'secureConnect' (cnet_tls_connect(), or
 *     cnet_socket_set_secure() on a client, node's tls.connect({socket}))
 *     then 'secure'; 'session' (data: getSession()'s bytes, resumable) for
 *     each session a client receives (TLS 1.3: each ticket, after 'secure';
 *     TLS 1.2: between 'secureConnect' and 'secure', as node; a resumed
 *     session gets no new one); 'keylog' (data: one NSS key log line, with
 *     its newline) when listened to.
 *   - The onread option is not supported over TLS (CNET_ERR_INVALID_ARG_VALUE).
 * A TLS server's handshake timeout is cnet_server_opts_t.handshake_timeout_ms;
 * its SNI and ALPN callbacks and setSecureContext are below the socket calls.
 * Renegotiation is refused.
 * ------------------------------------------------------------------------ */

/**
 * tls.connect()'s checkServerIdentity(hostname, cert) option: replaces
 * cnet_tls_check_server_identity() for one client socket. Called once the
 * handshake is done and the chain verified (never when the chain failed,
 * nor for a resumed session, as node), before 'secure', with the name that
 * would be checked (servername, else the host, else "localhost") and the
 * peer's certificate with its issuer chain (getPeerCertificate(true)),
 * both borrowed for the call (never NULL). Return 0 to accept, or a
 * negative code to reject (node's returned Error), optionally writing
 * node's err.message to @p message (@p message_size bytes, NUL-terminated;
 * left empty, the message is cnet_strerror(code)); a value > 0 rejects as
 * CNET_CERT_REJECTED. A rejection is then what a failed verification is:
 * with rejectUnauthorized, 'secure', 'error' with that code and message,
 * 'close'; without, 'secureConnect' with authorized false and
 * cnet_socket_tls_authorization_error() giving the code and message.
 * The socket may be destroyed from inside (it then emits neither). To keep
 * node's check and add one of your own, call cnet_tls_check_server_identity()
 * first; its message is cnet_strerror(code) + ": " + its reason.
 */
typedef int (*cnet_tls_check_server_identity_cb)(cnet_socket_t *s, const char *hostname,
                                                 const cnet_tls_cert_t *cert, char *message,
                                                 size_t message_size, void *arg);

/** Per-connection TLS options. Start from CNET_TLS_SOCKET_OPTS_INIT. */
typedef struct cnet_tls_socket_opts {
    size_t size;    /* sizeof the struct: set by CNET_TLS_SOCKET_OPTS_INIT */
    bool is_server; /* cnet_socket_set_secure(): our side is the server */
    /* Client: the SNI name, also the name checked by checkServerIdentity. NULL:
     * the host being connected to (never sent when it is an IP address, still
     * checked against IP SANs), else "localhost". "": no SNI, the host checked. */
    const char *servername;
    const char *const *alpn_protocols; /* NULL-terminated; replaces the context's list */
    const void *session;               /* client: getSession()'s bytes, to resume */
    size_t session_len;
    int reject_unauthorized; /* 0: the context's; CNET_TLS_ON / CNET_TLS_OFF */
    int request_cert;        /* server: 0: the context's; CNET_TLS_ON / CNET_TLS_OFF */
    /* Client: checkServerIdentity (see above); NULL: cnet_tls_check_server_identity(). */
    cnet_tls_check_server_identity_cb check_server_identity;
    void *check_server_identity_arg;
} cnet_tls_socket_opts_t;
#define CNET_TLS_SOCKET_OPTS_INIT CNET__OPTS_INIT(cnet_tls_socket_opts_t)

/**
 * new tls.TLSSocket(socket, {secureContext, isServer, ...}) (the seeds'
 * set_secure, STARTTLS): makes @p s a TLS socket on @p ctx (retained). @p s
 * must be connecting or connected, not ending, never secured, without
 * onread, and have nothing read yet that is not consumed (a STARTTLS
 * protocol: call it from the 'data' listener that saw the go-ahead, or
 * after). A connected socket starts its handshake now (a client's
 * ClientHello is queued), a connecting one once connected. Plain writes
 * queued before this call are sent before the handshake. 'secure' follows;
 * on a client (not is_server) this is tls.connect({socket}): verified as
 * cnet_tls_connect() is, with 'secureConnect' before 'secure' (node's bare
 * new TLSSocket client would verify nothing).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE (NULL), CNET_ERR_INVALID_ARG_VALUE
 *   (options, onread, already TLS), CNET_ERR_SOCKET_CLOSED (not connected or
 *   connecting), CNET_ERR_STREAM_WRITE_AFTER_END, CNET_ENOMEM,
 *   CNET_ERR_NO_CRYPTO.
 */
CNET_EXTERN int cnet_socket_set_secure(cnet_socket_t *s, cnet_tls_context_t *ctx,
                                       const cnet_tls_socket_opts_t *opts);

/**
 * tls.connect(options, secureConnectListener): cnet_create_connection() of
 * @p copts over TLS on @p ctx (with @p topts, may be NULL). @p on_secure
 * (may be NULL) is added as a once 'secureConnect' listener. Events:
 * 'connect', 'ready', 'secure', 'secureConnect', ..., or 'error' and 'close'.
 * @return as cnet_create_connection() and cnet_socket_set_secure().
 */
CNET_EXTERN int cnet_tls_connect(cnet_loop_t *loop, const cnet_connect_opts_t *copts,
                                 cnet_tls_context_t *ctx, const cnet_tls_socket_opts_t *topts,
                                 cnet_socket_cb on_secure, void *arg, cnet_socket_t **out);

/** socket.encrypted: true for a TLS socket. */
CNET_EXTERN bool cnet_socket_is_tls(const cnet_socket_t *s);
/** socket.authorized: the peer's certificate was verified (false before 'secure'). */
CNET_EXTERN bool cnet_socket_tls_authorized(const cnet_socket_t *s);
/**
 * The seeds' stream.verifyPeer() (v0.2): whether the peer's certificate
 * verified against the context's CAs; the same answer as
 * cnet_socket_tls_authorized(), under the seeds' name.
 */
CNET_EXTERN bool cnet_socket_verify_peer(const cnet_socket_t *s);
/**
 * socket.authorizationError: its code (e.g. CNET_DEPTH_ZERO_SELF_SIGNED_CERT),
 * 0 when authorized, not verified or not TLS. @p message (may be NULL)
 * receives node's message, borrowed until the socket is freed.
 */
CNET_EXTERN int cnet_socket_tls_authorization_error(const cnet_socket_t *s, const char **message);
/** getProtocol(): "TLSv1.3", "TLSv1.2", or NULL before the handshake or when not TLS. */
CNET_EXTERN const char *cnet_socket_tls_protocol(const cnet_socket_t *s);
/** getCipher(): static strings. @return 0, CNET_ERR_TLS_INVALID_STATE (no handshake yet or not
 * TLS). */
CNET_EXTERN int cnet_socket_tls_cipher(const cnet_socket_t *s, const char **name,
                                       const char **standard_name, const char **version);
/** alpnProtocol: the negotiated protocol, or NULL (node's false). */
CNET_EXTERN const char *cnet_socket_tls_alpn_protocol(const cnet_socket_t *s);
/** servername: the SNI name the client sent (server) or that we sent (client), or NULL. */
CNET_EXTERN const char *cnet_socket_tls_servername(const cnet_socket_t *s);
/** isSessionReused(). */
CNET_EXTERN bool cnet_socket_tls_session_reused(const cnet_socket_t *s);
/**
 * getSession(): the session serialised into *out (free it with cnet_tls_free),
 * NULL when there is none. @return 0, CNET_ENOMEM, CNET_ERR_INVALID_ARG_TYPE.
 */
CNET_EXTERN int cnet_socket_tls_get_session(const cnet_socket_t *s, unsigned char **out,
                                            size_t *out_len);
/** Frees what cnet_socket_tls_get_session() returned. NULL: no-op. */
CNET_EXTERN void cnet_tls_free(void *p);
/**
 * getPeerCertificate(detailed): *out is a new certificate (cnet_tls_cert_free
 * it), or NULL when the peer sent none. @return 0, CNET_ENOMEM,
 * CNET_ERR_INVALID_ARG_TYPE.
 */
CNET_EXTERN int cnet_socket_tls_peer_certificate(const cnet_socket_t *s, bool detailed,
                                                 const cnet_tls_cert_t **out);

/* TLS servers: SNI, ALPN, setSecureContext. ------------------------------------
 *
 * SNI (node's SNICallback(servername, cb)). With cnet_server_opts_t.sni_callback,
 * each accepted connection whose ClientHello names a server calls it once,
 * on the loop's thread, with the socket, the name (borrowed for the call)
 * and sni_arg; a client that sends no name (no servername, or an IP
 * address) does not call it and gets the server's context. The handshake
 * waits until cnet_tls_sni_done() answers, from inside the callback or
 * later (a timer, a lookup, a reload). To answer after the callback
 * returned, keep the socket with cnet_socket_retain() and release it after
 * answering: meanwhile it may close (the client goes away, the handshake
 * timeout, a destroy; the server's 'tlsClientError' reports it) and is
 * otherwise freed after its 'close'. Closing the server does not touch a
 * pending connection (as node's close(): it finishes or fails as any other).
 *
 * ALPN (node v20's ALPNCallback({servername, protocols})). With
 * cnet_server_opts_t.alpn_callback, each connection whose client offers
 * ALPN calls it once during the handshake with the socket, the SNI name
 * (NULL without one: node's false), the client's @p count protocols in the
 * client's order (borrowed for the call) and alpn_arg. It returns one of
 * them (compared by content; the pointer is read before the callback's
 * caller returns), or NULL to refuse them all: the handshake fails with a
 * fatal no_application_protocol alert ('tlsClientError'
 * CNET_ERR_SSL_NO_APPLICATION_PROTOCOL, the client's 'error'
 * CNET_ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL). A name the client did
 * not offer fails it with 'tlsClientError'
 * CNET_ERR_TLS_ALPN_CALLBACK_INVALID_RESULT, node's message ("ALPN callback
 * returned a value (x) that did not match any of the client's offered
 * protocols (a, b)"), and the socket closes without an alert (the client
 * sees ECONNRESET), as node. The callback replaces the ALPN list: the
 * server's context may have none (CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS)
 * and a context chosen by SNI has its list ignored. Either callback may
 * destroy the socket or close the server. */

/**
 * The SNI callback's answer for @p s (node's cb(err, context)):
 *   - @p err 0, @p ctx NULL: the server's context stays;
 *   - @p err 0, @p ctx: the connection uses @p ctx (retained by the socket):
 *     its certificate chain and key, and its CAs for client certificates;
 *   - @p err < 0: the handshake fails, as node's destroy(err): the server
 *     emits 'tlsClientError' with @p err and @p message (copied; NULL: the
 *     code's message), the socket closes without an alert, and the client
 *     sees ECONNRESET "Client network socket disconnected before secure TLS
 *     connection was established". @p ctx is ignored.
 * Answered inside the callback, it applies when the callback returns;
 * later, the handshake goes on at the next loop turn (nothing runs inside
 * this call).
 * @return 0, or (nothing done): CNET_ERR_INVALID_ARG_TYPE (NULL @p s),
 *   CNET_ERR_INVALID_ARG_VALUE (@p err > 0), CNET_ERR_TLS_INVALID_STATE
 *   (no question was asked on @p s), CNET_ERR_MULTIPLE_CALLBACK (answered
 *   already; node instead destroys the socket with ERR_MULTIPLE_CALLBACK),
 *   CNET_ERR_SOCKET_CLOSED (the socket was destroyed meanwhile: the answer
 *   is dropped, as node's, and the question counts as answered),
 *   CNET_ERR_NO_CRYPTO.
 */
CNET_EXTERN int cnet_tls_sni_done(cnet_socket_t *s, cnet_tls_context_t *ctx, int err,
                                  const char *message);

/**
 * server.setSecureContext(options): connections that @p srv accepts from
 * now on use @p ctx (retained; the previous context is released), to reload
 * a certificate without a restart. Connections already accepted keep the
 * context they started with, those still in their handshake too (node also
 * decides at accept). Allowed at any time, also while not listening.
 * @return 0, or (nothing changed): CNET_ERR_INVALID_ARG_TYPE (NULL @p srv),
 *   CNET_ERR_TLS_INVALID_CONTEXT (NULL @p ctx, or a plain server: node's
 *   net.Server has no setSecureContext), CNET_ERR_TLS_ALPN_CALLBACK_WITH_PROTOCOLS
 *   (@p srv has an alpn_callback and @p ctx alpn_protocols), CNET_ERR_NO_CRYPTO.
 */
CNET_EXTERN int cnet_server_set_secure_context(cnet_server_t *srv, cnet_tls_context_t *ctx);
/* ------------------------------------------------------------------------
 * 13. IPC CHANNELS (child.send(message, sendHandle), process.on('message'))
 *
 * A channel is one end of a connected Unix stream socket between two
 * processes (a socketpair one process made before starting the other, or a
 * connection to a socket path). It carries messages: byte strings, each
 * delivered whole as one 'message' event, in order. In IPC mode (the
 * default) a message may carry a listening server or a connected socket,
 * passed with SCM_RIGHTS (libuv's uv_write2 on an IPC pipe) and adopted by
 * the receiving process, which carries on with it, as node's
 * child.send(message, handle) and cluster do:
 *   - a server (cnet_channel_send_server()): the receiver gets a new
 *     cnet_server_t listening on the same socket, already listening (no
 *     'listening' event: node emits the message from the listening
 *     callback), with the channel's server_opts; its 'connection' events
 *     come in the receiver. The sender's server keeps listening (both
 *     processes accept from the one queue, node's behaviour); close it if
 *     only the receiver should accept.
 *   - a socket (cnet_channel_send_socket()): the receiver gets a new
 *     connected cnet_socket_t (server_opts' allow_half_open,
 *     high_water_mark, no_delay, keep_alive apply; not TLS). It starts
 *     reading once the 'message' listeners have returned, unless one paused
 *     it, exactly like an accepted socket after 'connection': add 'data'
 *     listeners inside 'message'. Its remote and local addresses are the
 *     connection's own. The sender's socket is destroyed by the send
 *     (node's keepOpen false): its 'close' follows (had_error false) and
 *     its server's cnet_server_connections() stops counting it at once, as
 *     node's server._connections. As node's (cluster), that server's
 *     cnet_server_get_connections() then asks every channel it sent
 *     connections over how many of them are still open in the receiver and
 *     adds them (its callback comes once all answered; a channel that closes
 *     before answering makes it fail with CNET_ERR_CHILD_CLOSED_BEFORE_REPLY
 *     and is not asked again), and its cnet_server_close() waits, before
 *     'close', until the receivers closed them too (counting one connection
 *     meanwhile, node's _connections++; a channel that closes counts as
 *     done). Bytes the sender had not read stay in the
 *     kernel and are read by the receiver: with pause_on_connect on the
 *     accepting server (node's pauseOnConnect), not a byte is lost. Writes
 *     still queued on the sender's socket are cancelled (ECANCELED).
 * Nobody listening: a socket or server that came with a message is still
 * created and keeps running; destroy/close it in the 'message' listener if
 * it is not wanted.
 *
 * Events of a channel: 'message' (data, connection or server), 'error'
 * (error: a read failure, a send failure without a callback, a message over
 * max_message_size), 'close' (last, exactly once, node's 'disconnect': the
 * peer closed its end or exited, cnet_channel_close() was called, or an
 * error). A channel, like a socket, is valid until its 'close' listeners
 * have returned; any call (close included) is safe inside its callbacks. A
 * handle that arrived with a message not yet complete when the channel
 * closes is closed, never leaked. Any number of messages may be in flight.
 *
 * Wire format (both ends must be cnet): each message is framed by a 12-byte
 * header (a marker, the kind of handle, the length, the sending server's
 * key, big-endian) and sent in one uv_write2 with its handle, so the handle
 * and its message arrive together; control frames carry getConnections()
 * and close() (node's NODE_SOCKET_* messages). Node's JSON/advanced serialization is not spoken: a
 * node process is not a peer.
 * ------------------------------------------------------------------------ */

typedef struct cnet_channel_s cnet_channel_t;
typedef void (*cnet_channel_cb)(cnet_channel_t *ch, const cnet_event_t *ev, void *arg);
/** A send's completion: @p status 0 once the message (and its handle) went to the kernel. */
typedef void (*cnet_channel_send_cb)(cnet_channel_t *ch, int status, void *arg);

/** Channel options. Start from CNET_CHANNEL_OPTS_INIT. */
typedef struct cnet_channel_opts {
    size_t size;             /* sizeof the struct: set by CNET_CHANNEL_OPTS_INIT */
    bool no_handles;         /* true: not an IPC pipe: messages only, sending a handle is refused */
    size_t max_message_size; /* largest message sent or accepted; 0: 64 MiB */
    /* Options of the servers and sockets received (copied at open; NULL: defaults). */
    const cnet_server_opts_t *server_opts;
} cnet_channel_opts_t;
#define CNET_CHANNEL_OPTS_INIT CNET__OPTS_INIT(cnet_channel_opts_t)

/**
 * A channel on @p fd, a connected Unix stream socket (one end of a
 * socketpair, e.g. inherited by a child process as a number given on its
 * command line or in its environment). The channel owns @p fd once this
 * returns 0 (it closes it at 'close'); on an error the fd stays the
 * caller's. Reading starts at once: 'message' events come on later loop
 * turns. The channel keeps cnet_loop_run() going until 'close' (see
 * cnet_channel_unref()).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE (@p out NULL), CNET_EBADF (not an
 *   open fd), CNET_ENOTSOCK (not a socket), CNET_EINVAL (not a Unix stream
 *   socket), CNET_ERR_INVALID_ARG_VALUE (options), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_channel_open(cnet_loop_t *loop, int fd, const cnet_channel_opts_t *opts,
                                  cnet_channel_t **out);
/**
 * A socketpair: @p *out is a channel on one end, @p *peer_fd the other end,
 * for the other process, which opens it with cnet_channel_open(). @p
 * *peer_fd has FD_CLOEXEC: pass it to uv_spawn() as a stdio entry
 * (UV_INHERIT_FD, which dup2()s it into the child, e.g. as fd 3), or dup2()
 * it yourself between fork() and exec(); then close it in this process.
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_INVALID_ARG_VALUE,
 *   CNET_EMFILE, CNET_ENFILE, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_channel_pair(cnet_loop_t *loop, const cnet_channel_opts_t *opts,
                                  cnet_channel_t **out, int *peer_fd);
/**
 * A channel connected to the Unix socket at @p path, whose listener makes
 * its side with cnet_channel_from_socket(). Messages sent before the
 * connection is up are queued. A failed connect is 'error' (syscall
 * "connect", address the path), then 'close'.
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ENAMETOOLONG,
 *   CNET_ERR_INVALID_ARG_VALUE, CNET_ENOMEM.
 */
CNET_EXTERN int cnet_channel_connect(cnet_loop_t *loop, const char *path,
                                     const cnet_channel_opts_t *opts, cnet_channel_t **out);
/**
 * Turns @p s, a connected Unix socket (e.g. just accepted by a server on a
 * path, inside its 'connection' listener), into a channel on the same
 * connection: @p s is destroyed ('close' follows) and the channel owns the
 * connection. Bytes @p s already read are not seen by the channel: call it
 * before the socket reads (in 'connection', or with pause_on_connect).
 * @return 0, CNET_ERR_INVALID_ARG_TYPE, CNET_ERR_STREAM_DESTROYED,
 *   CNET_ERR_SOCKET_CLOSED (not connected), CNET_ERR_INVALID_HANDLE_TYPE
 *   (TCP or TLS), CNET_ERR_INVALID_ARG_VALUE, CNET_EMFILE, CNET_ENOMEM;
 *   @p s is unchanged on an error.
 */
CNET_EXTERN int cnet_channel_from_socket(cnet_socket_t *s, const cnet_channel_opts_t *opts,
                                         cnet_channel_t **out);

/**
 * child.send(message, callback): sends @p len bytes (copied; 0 is an empty
 * message) as one message. @p cb (may be NULL) runs on a later loop turn:
 * status 0 once the kernel took it, or an error (CNET_EPIPE: the peer is
 * gone; CNET_ECANCELED: the channel closed first). A failure without @p cb
 * is an 'error' event on the channel (node emits 'error' too).
 * @return 0, or at once (scheduling nothing): CNET_ERR_INVALID_ARG_TYPE,
 *   CNET_ERR_STREAM_NULL_VALUES (@p data NULL with @p len > 0),
 *   CNET_ERR_IPC_CHANNEL_CLOSED (after cnet_channel_close() or 'close'),
 *   CNET_ERR_FRAME_TOO_LARGE (over max_message_size), CNET_ENOMEM.
 */
CNET_EXTERN int cnet_channel_send(cnet_channel_t *ch, const void *data, size_t len,
                                  cnet_channel_send_cb cb, void *arg);
/**
 * child.send(message, socket, callback): sends @p s, a connected plain TCP
 * or Unix socket, with the message. On success @p s is destroyed at once
 * (see the section's text: 'close' follows, its server stops counting it)
 * and the connection lives on in the receiver; on an error @p s is
 * unchanged. If the message then fails to go out (the peer is gone), the
 * connection is closed.
 * @return as cnet_channel_send(), and CNET_ERR_IPC_NO_HANDLES (a
 *   no_handles channel), CNET_ERR_STREAM_DESTROYED (@p s destroyed),
 *   CNET_ERR_SOCKET_CLOSED (not connected: never, or still connecting),
 *   CNET_ERR_INVALID_HANDLE_TYPE (a TLS socket: its TLS state cannot be
 *   passed), CNET_EMFILE. (node sends a destroyed socket's message without
 *   the handle; here it is refused.)
 */
CNET_EXTERN int cnet_channel_send_socket(cnet_channel_t *ch, const void *data, size_t len,
                                         cnet_socket_t *s, cnet_channel_send_cb cb, void *arg);
/**
 * child.send(message, server, callback): sends @p srv's listening socket
 * with the message; the receiver gets a server on it. @p srv is unchanged
 * and keeps listening (the socket is duplicated for the send, so closing
 * @p srv at any time is safe).
 * @return as cnet_channel_send(), and CNET_ERR_IPC_NO_HANDLES,
 *   CNET_ERR_SERVER_NOT_RUNNING (not listening: node's server._handle is
 *   null), CNET_ERR_INVALID_HANDLE_TYPE (a TLS server: the receiver would
 *   accept plain connections), CNET_EMFILE.
 */
CNET_EXTERN int cnet_channel_send_server(cnet_channel_t *ch, const void *data, size_t len,
                                         cnet_server_t *srv, cnet_channel_send_cb cb, void *arg);
/**
 * child.disconnect(): closes the channel. Sends still queued complete with
 * CNET_ECANCELED, then 'close' comes on a later turn; the peer sees its own
 * 'close'. Idempotent; NULL is a no-op. Safe inside any callback.
 */
CNET_EXTERN void cnet_channel_close(cnet_channel_t *ch);
/** child.connected: open and not closing. */
CNET_EXTERN bool cnet_channel_is_connected(const cnet_channel_t *ch);
/** Whether the channel passes handles (IPC mode). */
CNET_EXTERN bool cnet_channel_is_ipc(const cnet_channel_t *ch);
/** channel.ref() / unref(): whether an open channel keeps cnet_loop_run() going. */
CNET_EXTERN void cnet_channel_ref(cnet_channel_t *ch);
CNET_EXTERN void cnet_channel_unref(cnet_channel_t *ch);
/** Keeps @p ch allocated past its 'close' event until the matching release. */
CNET_EXTERN void cnet_channel_retain(cnet_channel_t *ch);
CNET_EXTERN void cnet_channel_release(cnet_channel_t *ch);
CNET_EXTERN void cnet_channel_set_data(cnet_channel_t *ch, void *data);
CNET_EXTERN void *cnet_channel_get_data(const cnet_channel_t *ch);
/* EventEmitter for channels, with the socket functions' rules. */
CNET_EXTERN int cnet_channel_on(cnet_channel_t *ch, cnet_event_type_t type, cnet_channel_cb cb,
                                void *arg);
CNET_EXTERN int cnet_channel_once(cnet_channel_t *ch, cnet_event_type_t type, cnet_channel_cb cb,
                                  void *arg);
CNET_EXTERN int cnet_channel_off(cnet_channel_t *ch, cnet_event_type_t type, cnet_channel_cb cb,
                                 void *arg);
CNET_EXTERN int cnet_channel_off_all(cnet_channel_t *ch, cnet_event_type_t type);

#ifdef __cplusplus
}
#endif
#endif /* CNET_H */
