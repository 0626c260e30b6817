/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A client of txcanceld's socket that speaks the protocol by hand, for the
 * tests that send what libtxcancel never would (broken messages, several
 * descriptors, packets without a header) and for connections made as other
 * users.  Also what the tests read of the daemon's process: its open
 * descriptors and its resident memory.
 *
 * Functions return 0 (or a length) on success and a negative errno.
 */
#ifndef TXC_TEST_PROTO_PEER_H
#define TXC_TEST_PROTO_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "txcancel/txcancel.h"

#define HDR		((__u32)sizeof(struct txc_msg_hdr))

/* A reply: header and any body the protocol has. */
struct reply {
	struct txc_msg_hdr h;
	union {
		struct txc_rep_error err;
		struct txc_rep_hello hello;
		struct txc_rep_prefix prefix;
		struct txc_rep_source source;
		struct txc_rep_tag tag;
		struct txc_rep_cancel cancel;
		struct txc_rep_clear clear;
		struct txc_rep_batch batch;
		struct txc_rep_explain explain;
		struct txc_rep_list list;
		struct txc_rep_status status;
		__u8 raw[TXC_MSG_MAX - sizeof(struct txc_msg_hdr)];
	};
};

/* A request, with room to build one longer than TXC_MSG_MAX. */
struct msg {
	struct txc_msg_hdr h;
	__u8 body[TXC_MSG_MAX + 256];
};

/*
 * One client connection: through libtxcancel (txc_request_raw) when @lib is
 * set, else a plain SEQPACKET socket.
 */
struct peer {
	struct txc_client *lib;
	int fd;
	__u32 conn_id;
	__u32 uid;
};

/* Header (with a fresh seq) and @len bytes of body; returns the message length. */
size_t msg_make(struct msg *m, __u8 type, const void *body, size_t len);

int peer_open_path(struct peer *p, const char *path);
void peer_close(struct peer *p);
/* One packet, with @n_fds descriptors attached (SCM_RIGHTS). */
int raw_send(int fd, const void *buf, size_t len, const int *fds, int n_fds);
/* The next reply on a raw socket (events skipped), within @timeout_ms. */
int raw_recv_timeout(int fd, struct reply *r, int timeout_ms);
/* ... within 5 s; -ECONNRESET when the daemon closed the connection. */
int raw_recv(int fd, struct reply *r);
/* Send @len bytes of @m and wait for the reply; returns its length or -errno. */
int peer_send(struct peer *p, const void *m, size_t len, const int *fds, int n_fds,
	      struct reply *r);
/* A request of @type with @body (and descriptor @fd if >= 0); the reply in @r. */
int peer_call(struct peer *p, __u8 type, const void *body, size_t len, int fd,
	      struct reply *r);
/* HELLO; on success @p learns its connection id and uid.  The reply's error else. */
int peer_greet(struct peer *p);
/*
 * Connect to @path as @uid (with CAP_NET_ADMIN if @net_admin, through
 * txct_run_as()) and say hello; the connection is then @p's, and the
 * daemon knows it as that user.
 */
int peer_open_as(struct peer *p, const char *path, uid_t uid, bool net_admin);

/* --- checking replies ----------------------------------------------------- */

#define FIELD_ANY	0xfffffffeu	/* do not check the refused field's offset */

/* The daemon's sentence in a failed reply (batch replies carry it inside). */
const char *reply_error_text(struct reply *r);
/* The offset of the field a failed reply names. */
__u32 reply_error_field(const struct reply *r);

/* @n (a peer_call result) is a reply, and a success; else the test fails, saying why. */
bool reply_ok_at(const char *file, int line, int n, struct reply *r, const char *what);
/*
 * @n is an error reply: error @errnum, a text that says @word (if any), the
 * field at offset @field refused (unless FIELD_ANY); else the test fails.
 */
bool reply_err_at(const char *file, int line, int n, struct reply *r, int errnum,
		  const char *word, __u32 field, const char *what);


#endif
