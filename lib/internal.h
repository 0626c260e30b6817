/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libtxcancel internals: the client object and the helpers its parts share.
 * Nothing here is exported (the library is built with hidden visibility);
 * non-static names carry the txcl_ prefix so that they cannot collide with
 * a program that links the static library.
 */
#ifndef TXCANCEL_LIB_INTERNAL_H
#define TXCANCEL_LIB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>
#include <linux/types.h>
#include "txcancel/txcancel.h"

#define TXCL_ERR_MAX	256	/* bytes of an error text, NUL included */

/* One completion batch kept for the next txc_read_completions(). */
struct txcl_event {
	struct txcl_event *next;
	struct txc_ev_completions ev;
	/*
	 * COMPLETIONS_CAPTURE: record i's frame bytes (recs[i].cap_len of
	 * them) are at caps + cap_off[i]; both in this allocation.  NULL
	 * for COMPLETIONS.
	 */
	__u32 *cap_off;
	const __u8 *caps;
	struct txc_abort_record recs[];
};

/*
 * What the client last heard of one source: the account, and the sequence
 * numbers of the last batch with records, which a restarted daemon may
 * send again (it died between sending the batch and recording it).
 */
struct txcl_account {
	struct txc_ev_completions ev;
	bool check_repeat;		/* reconnected: the next batch may repeat the last */
	__u32 n_last;
	__u64 last_seqs[TXC_COMPLETIONS_MAX];
};

struct txc_client {
	int fd;
	__u32 seq;			/* seq of the last request sent */
	/*
	 * Sticky: once the stream is out of step (the daemon closed it or
	 * sent something malformed) no later reply can be trusted, so every
	 * call fails with this errno and broken_err.
	 */
	int broken;
	struct txc_rep_hello hello;
	__u8 *rx;			/* TXC_MSG_MAX bytes: the last packet received */
	struct txcl_event *ev_head, *ev_tail;
	const struct txcl_event *ev_current;	/* the batch a callback is handed */
	/* Last batch handed out per source, sorted by source. */
	struct txcl_account *accounts;
	size_t n_accounts, max_accounts;
	/* Asynchronous requests in flight, oldest first (async.c): a ring. */
	struct {
		__u32 seq;
		__u8 type;
	} async[TXC_ASYNC_MAX];
	__u32 async_head, async_n;
	/*
	 * Cookie of the socket tagged through each fd (index = fd), so that an
	 * untag by cookie can pass the socket, which the daemon needs.  Sized
	 * by the highest fd tagged: a program that tags and closes sockets one
	 * after the other reuses the same few entries.
	 */
	__u64 *tagged;
	size_t n_tagged;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char err[TXCL_ERR_MAX];
	char broken_err[TXCL_ERR_MAX];
};

/* A validated reply in client->rx; valid until the next receive. */
struct txcl_reply {
	const struct txc_msg_hdr *hdr;
	const void *body;
	size_t len;			/* bytes of the body */
};

/* ---- error.c ------------------------------------------------------------- */

/* Format an error text into @buf (TXCL_ERR_MAX bytes); returns @err. */
int txcl_fail(char *buf, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* This thread's buffer behind txc_last_error(). */
char *txcl_tls_err(void);
/* Mark @c unusable with its current error text; returns @err. */
int txcl_break(struct txc_client *c, int err);
/*
 * Every client call starts here: -EINVAL for a NULL client, the sticky
 * error of a broken one, else 0.
 */
int txcl_enter(struct txc_client *c);
/* txcl_enter(), then -EINVAL for a NULL @arg, named @name in @fn's error. */
int txcl_enter_arg(struct txc_client *c, const char *fn, const char *name, const void *arg);
/* Copy a daemon sentence of at most @max bytes into @buf, made printable. */
void txcl_copy_text(char *buf, const char *text, size_t max);

/* ---- validate.c ---------------------------------------------------------- */

/* Name of a message type for error texts ("CANCEL", or "type 99"). */
const char *txcl_type_name(__u8 type, char *tmp, size_t tmp_len);
/*
 * Check a received message of @len bytes (header and body) before anything
 * reads it.  Returns 0, or -EPROTO/-EPROTONOSUPPORT with @c->err set.
 */
int txcl_check_msg(struct txc_client *c, const void *msg, size_t len);
/* The daemon speaks protocol @version: -EPROTONOSUPPORT and its text. */
int txcl_version_mismatch(struct txc_client *c, unsigned int version);

/* ---- transport.c --------------------------------------------------------- */

/*
 * Send one request of @type with @body (and @fd by SCM_RIGHTS if >= 0),
 * wait for its reply and check it.  Returns 0 with @rep filled, the
 * daemon's -errno (its sentence in @c->err; @rep filled as well), or a
 * transport failure.
 */
int txcl_call(struct txc_client *c, __u8 type, const void *body, size_t len, int fd,
	      struct txcl_reply *rep);
/*
 * txcl_call() for a reply that is one fixed head: copy its @out_len bytes
 * to @out, or only check the reply when @out is NULL.
 */
int txcl_call_head(struct txc_client *c, __u8 type, const void *body, size_t len, int fd,
		   void *out, size_t out_len);
/* The two halves of txcl_call, for requests in flight together (async.c). */
int txcl_send(struct txc_client *c, __u8 type, const void *body, size_t len, int fd,
	      __u32 *seq);
int txcl_wait(struct txc_client *c, __u8 type, __u32 seq, struct txcl_reply *rep);
/*
 * A request whose reply is a list (struct txc_rep_list and its entries):
 * copy up to @max entries of @entry bytes to @out.  Returns how many, or
 * -errno; @fn names the caller in the error for a NULL @out.
 */
int txcl_list_call(struct txc_client *c, const char *fn, __u8 type, const void *req,
		   size_t len, void *out, size_t max, size_t entry);
/* Receive one packet into @c->rx: its length, -EAGAIN, or a fatal error. */
int txcl_recv(struct txc_client *c, int flags);

/* ---- events.c ------------------------------------------------------------ */

/* Keep a copy of a checked COMPLETIONS message for txc_read_completions(). */
int txcl_event_queue(struct txc_client *c, const void *msg);
/* Reconnected: the next batch of every source may repeat its last one. */
void txcl_completions_reconnected(struct txc_client *c);
/* Free the queued batches and the accounts. */
void txcl_completions_free(struct txc_client *c);

/* ---- args.c: build request bodies, refusing what cannot be right -------- */

int txcl_check_source(char *err, __u32 source);
int txcl_check_id(char *err, __u32 cancel_id);
int txcl_check_prefix(char *err, __u32 prefix);
/* @ifname NULL gives an all-zero field (every interface). */
int txcl_copy_ifname(char *err, char dst[16], const char *ifname);
int txcl_make_tag(char *err, struct txc_req_tag *t, bool add, __u8 kind,
		  const union txc_tag_key *key, __u32 cancel_id, __u32 source);
int txcl_make_cancel(char *err, struct txc_req_cancel *r, __u8 scope, __u32 value,
		     const char *ifname, __u64 timeout_ns);
int txcl_make_clear(char *err, struct txc_req_clear *r, __u8 scope, __u32 value);

#endif /* TXCANCEL_LIB_INTERNAL_H */
