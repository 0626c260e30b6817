/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * libtxcancel: the C client of txcanceld.  It reads like the NDIS calls it
 * replaces:
 *
 *   NdisGeneratePartialCancelId()          txc_generate_partial_cancel_id()
 *   NDIS_SET_NET_BUFFER_LIST_CANCEL_ID()   txc_tag_socket() / _mark() / _cgroup() / _flow()
 *   a binding's SourceHandle               txc_source_open()
 *   NdisCancelSendNetBufferLists()         txc_cancel_send_net_buffer_lists()
 *                                          (or txc_cancel() for prefix/source scope)
 *   the cancel ID set back to NULL         txc_clear()
 *   ProtocolSendNetBufferListsComplete()   txc_read_completions() with a callback
 *                                          seeing TXC_STATUS_SEND_ABORTED
 *
 * A client is one connection.  Prefixes and sources are leases on it: when
 * the client closes, the daemon removes their tags and cancels.
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; txc_client_error() then holds the daemon's (or the library's)
 * sentence naming the problem.  Requests are synchronous.  Completions arrive
 * asynchronously: put txc_client_fd() in your poll/epoll set (POLLIN) and
 * call txc_read_completions() when it is readable; completions that arrive
 * while a request waits for its reply are kept and handed out by the next
 * txc_read_completions().  A client is not thread-safe; use one per thread.
 */
#ifndef TXCANCEL_TXCANCEL_H
#define TXCANCEL_TXCANCEL_H

#include <stddef.h>
#include <linux/types.h>
#include "txcancel/abi.h"
#include "txcancel/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden visibility; this is its public surface. */
#define TXC_API __attribute__((visibility("default")))

struct txc_client;

/* ---- connection ---------------------------------------------------------- */

/*
 * Connect to txcanceld at @path (NULL: $TXCANCEL_SOCKET, else
 * TXC_SOCKET_PATH) and say hello.  On failure *client is NULL and the error
 * text is available from txc_last_error().
 */
TXC_API int txc_client_open(struct txc_client **client, const char *path);
/*
 * After txcanceld went away (a call failed with -ECONNRESET or -EPIPE):
 * connect again to the same socket and say hello; retry while the daemon
 * is not back (the error says why).  txc_client_fd() changes.  The client keeps its completion
 * accounts and queued batches; claim the prefixes and sources back
 * (txc_prefix_claim, txc_source_claim) and the accounts go on where they
 * were.  A batch the old daemon sent but had not recorded comes again from
 * the new one: its records are recognised by sequence number and handed
 * out once.
 */
TXC_API int txc_client_reconnect(struct txc_client *client);
/* Close the connection (the daemon releases its leases). NULL-safe. */
TXC_API void txc_client_close(struct txc_client *client);
/* The socket, for poll/epoll (POLLIN: completions to read). */
TXC_API int txc_client_fd(const struct txc_client *client);
/* The daemon's hello: protocol version, uid/pid it sees, limits. */
TXC_API const struct txc_rep_hello *txc_client_hello(const struct txc_client *client);
/* The text of the last error on @client ("" if none). */
TXC_API const char *txc_client_error(const struct txc_client *client);
/* The text of the last txc_client_open() failure of this thread. */
TXC_API const char *txc_last_error(void);

/* ---- prefixes (NdisGeneratePartialCancelId) ------------------------------ */

/* A free prefix, 1..255; -ENOSPC when all are held. */
TXC_API int txc_generate_partial_cancel_id(struct txc_client *client, __u8 *prefix);
/* Ask for one prefix: free, or an orphaned lease of this user to reclaim. */
TXC_API int txc_prefix_claim(struct txc_client *client, __u8 prefix);
TXC_API int txc_prefix_free(struct txc_client *client, __u8 prefix);
/* Up to @max leases visible to this user; returns how many were stored. */
TXC_API int txc_prefix_list(struct txc_client *client, struct txc_prefix_info *out, size_t max);

/* ---- sources (SourceHandle) ---------------------------------------------- */

/* Open a new source; this client is subscribed to its completions. */
TXC_API int txc_source_open(struct txc_client *client, __u32 *source);
/* Reclaim an orphaned source of this user (after a daemon restart). */
TXC_API int txc_source_claim(struct txc_client *client, __u32 source);
TXC_API int txc_source_close(struct txc_client *client, __u32 source);
/*
 * Receive (or stop receiving) the completions of @source, one of this
 * user's: -EALREADY if subscribed, -ENOENT if not.  Records of a source
 * nobody is subscribed to wait in its ring for the next subscriber.
 */
TXC_API int txc_subscribe(struct txc_client *client, __u32 source);
TXC_API int txc_unsubscribe(struct txc_client *client, __u32 source);

/* ---- tagging (NDIS_SET_NET_BUFFER_LIST_CANCEL_ID) ------------------------ */

/*
 * Frames sent on @sock_fd get @cancel_id; *cookie (may be NULL) is the key to
 * untag.  The tag is stored in the socket: it ends when the socket is closed,
 * untagged, or when its prefix or source is released.
 */
TXC_API int txc_tag_socket(struct txc_client *client, int sock_fd, __u32 cancel_id,
		   __u32 source, __u64 *cookie);
TXC_API int txc_tag_mark(struct txc_client *client, __u32 mark, __u32 cancel_id, __u32 source);
TXC_API int txc_tag_cgroup(struct txc_client *client, __u64 cgroup_id, __u32 cancel_id,
		   __u32 source);
TXC_API int txc_tag_flow(struct txc_client *client, const struct txc_flow_key *flow,
		 __u32 cancel_id, __u32 source);
/*
 * Remove a rule: @kind TXC_TAG_*, @key as in struct txc_req_tag.  A socket
 * is untagged through the socket itself: by cookie only if it was tagged
 * through this client and is still open here (-ENOENT otherwise).
 */
TXC_API int txc_untag(struct txc_client *client, __u8 kind, const union txc_tag_key *key);
/* Remove the tag of the socket @sock_fd (-ENOENT if it has none). */
TXC_API int txc_untag_socket(struct txc_client *client, int sock_fd);

/* ---- cancel and clear ---------------------------------------------------- */

/* NdisCancelSendNetBufferLists: cancel one ID on every interface. */
TXC_API int txc_cancel_send_net_buffer_lists(struct txc_client *client, __u32 cancel_id);
/*
 * Cancel @value of @scope (TXC_SCOPE_ID, _PREFIX, _SOURCE) on @ifname (NULL:
 * every interface), for @timeout_ns (0: until cleared).  *since_ns (may be
 * NULL) is when the datapath saw it, CLOCK_MONOTONIC.
 */
TXC_API int txc_cancel(struct txc_client *client, __u8 scope, __u32 value,
	       const char *ifname, __u64 timeout_ns, __u64 *since_ns);
/* End a cancel; @final (may be NULL) gets the final counts (see txc_rep_clear). */
TXC_API int txc_clear(struct txc_client *client, __u8 scope, __u32 value,
	      struct txc_rep_clear *final);

/*
 * Asynchronous cancels and clears: up to TXC_ASYNC_MAX in flight on one
 * client, for callers that issue many single requests.  One request at a
 * time costs a wake-up of the daemon and then of the caller per request;
 * requests in flight together are answered in one turn of the daemon's loop.
 *
 * txc_cancel_async() and txc_clear_async() send the request and return at
 * once (*seq, may be NULL: its sequence number); -EBUSY when TXC_ASYNC_MAX
 * are in flight.  txc_async_reply() waits for the oldest one's reply and
 * returns its outcome (0 or the daemon's -errno, with its sentence in
 * txc_client_error()), its number in *seq; -ENOENT when none is in flight.
 * While any is in flight, the other calls that talk to the daemon (and
 * txc_read_completions()) refuse with -EBUSY: collect the replies first.
 * Completions that arrive meanwhile are kept, as for any request.  A
 * reconnect forgets the requests in flight on the old connection: whether
 * they were applied is unknown, as for a synchronous call that failed.
 */
#define TXC_ASYNC_MAX	64
TXC_API int txc_cancel_async(struct txc_client *client, __u8 scope, __u32 value,
			     const char *ifname, __u64 timeout_ns, __u32 *seq);
TXC_API int txc_clear_async(struct txc_client *client, __u8 scope, __u32 value, __u32 *seq);
TXC_API int txc_async_reply(struct txc_client *client, __u32 *seq);
TXC_API unsigned int txc_async_pending(const struct txc_client *client);

/* ---- batches ------------------------------------------------------------- */

/*
 * Up to TXC_BATCH_MAX tag/untag/cancel/clear operations in one request.
 * Build with the txc_batch_*() calls (each returns -E2BIG when full), then
 * txc_batch_submit(): every op is checked before any is applied; on failure
 * *failed (may be NULL) is the index of the op that failed.
 */
struct txc_batch;

TXC_API struct txc_batch *txc_batch_new(void);
TXC_API void txc_batch_free(struct txc_batch *batch);
TXC_API void txc_batch_reset(struct txc_batch *batch);
TXC_API size_t txc_batch_count(const struct txc_batch *batch);
TXC_API int txc_batch_tag(struct txc_batch *batch, __u8 kind, const union txc_tag_key *key,
		  __u32 cancel_id, __u32 source);
TXC_API int txc_batch_untag(struct txc_batch *batch, __u8 kind, const union txc_tag_key *key);
TXC_API int txc_batch_cancel(struct txc_batch *batch, __u8 scope, __u32 value,
		     const char *ifname, __u64 timeout_ns);
TXC_API int txc_batch_clear(struct txc_batch *batch, __u8 scope, __u32 value);
/* Returns the number of ops applied, or a negative errno. */
TXC_API int txc_batch_submit(struct txc_client *client, const struct txc_batch *batch,
		     __u32 *failed);

/* ---- counters ------------------------------------------------------------ */

/* Start or stop per-ID counters for @cancel_id (costs one lookup per tagged frame). */
TXC_API int txc_count_id(struct txc_client *client, __u32 cancel_id, int enable);
/*
 * Counters of @value (0: all visible) in @scope (TXC_SCOPE_SOURCE or
 * TXC_SCOPE_ID); returns how many entries were stored in @out.
 */
TXC_API int txc_stats(struct txc_client *client, __u8 scope, __u32 value,
	      struct txc_stats_entry *out, size_t max);

/* ---- completions (ProtocolSendNetBufferListsComplete) -------------------- */

/*
 * Called once per completion batch: @ev is the batch's account (see
 * struct txc_ev_completions), @recs its @ev->count records, each with
 * hdr.status == TXC_STATUS_SEND_ABORTED.
 */
typedef void (*txc_completion_fn)(void *ctx, const struct txc_ev_completions *ev,
				  const struct txc_abort_record *recs);

/*
 * Hand every completion batch already received to @fn, without blocking.
 * @timeout_ms > 0 waits that long for the first batch, -1 forever.
 * Returns the number of records handed out, or a negative errno
 * (-ECONNRESET when the daemon went away).
 */
TXC_API int txc_read_completions(struct txc_client *client, txc_completion_fn fn, void *ctx,
			 int timeout_ms);

/*
 * Ask for the first @snaplen bytes (1..TXC_CAPTURE_MAX) of each frame of
 * @source this client's subscription gets completions for (0: none again).
 * The client must be subscribed (txc_source_open() or txc_subscribe()).
 * Records are then version 2 (TXC_RECORD_VERSION_CAPTURE) and carry
 * rec->cap_len bytes, read with txc_record_bytes(); subscribers that did
 * not ask keep getting version 1 records.  -EINVAL past TXC_CAPTURE_MAX;
 * -EBADMSG from a daemon that predates it.
 */
TXC_API int txc_capture(struct txc_client *client, __u32 source, __u32 snaplen);
/*
 * Inside a txc_completion_fn: the frame bytes @rec (one of the callback's
 * @recs) carries, from the Ethernet header on, and their number in *@len
 * (rec->cap_len; may be less than rec->len).  NULL and *@len 0 when it
 * carries none, or outside the callback.
 */
TXC_API const __u8 *txc_record_bytes(const struct txc_client *client,
				     const struct txc_abort_record *rec, __u32 *len);

/*
 * The running account of @source as last reported to this client:
 * aborted, ring_lost, delivered, backlog_lost (-ENOENT if no batch yet).
 */
TXC_API int txc_source_account(const struct txc_client *client, __u32 source,
		       struct txc_ev_completions *account);

/* ---- daemon -------------------------------------------------------------- */

/*
 * STATUS; *status gets the fixed part, @ifaces/@clients up to @max_* entries
 * (either may be NULL with max 0).  Counts in *status are the daemon's totals.
 */
TXC_API int txc_status(struct txc_client *client, struct txc_rep_status *status,
	       struct txc_status_iface *ifaces, size_t max_ifaces,
	       struct txc_status_client *clients, size_t max_clients);
/*
 * METRICS: *metrics gets the fixed part, @ifaces and @requests up to @max_*
 * entries (either may be NULL with max 0); the counts in *metrics are the
 * daemon's.  -EBADMSG from a daemon that predates METRICS.
 */
TXC_API int txc_metrics(struct txc_client *client, struct txc_rep_metrics *metrics,
			struct txc_metrics_iface *ifaces, size_t max_ifaces,
			struct txc_metrics_request *requests, size_t max_requests);
/*
 * ABORT_PLACES: where each managed interface's frames were aborted (see
 * txc_places_iface), up to @max entries; returns how many the daemon has.
 * -EBADMSG from a daemon that predates ABORT_PLACES.
 */
TXC_API int txc_abort_places(struct txc_client *client, struct txc_places_iface *out,
			     size_t max);
/* EXPLAIN: what the loaded program decides for @frame (see txc_req_explain). */
TXC_API int txc_explain(struct txc_client *client, const char *ifname, __u32 mark,
		const void *frame, size_t frame_len, struct txc_rep_explain *out);

/* ---- raw access (tests, tools) ------------------------------------------- */

/*
 * Send @len bytes as one message (a full txc_msg_hdr first; the library sets
 * nothing), with @fd passed by SCM_RIGHTS if >= 0, and wait for the reply to
 * hdr->seq.  The reply (header included) is copied to @reply (up to
 * @reply_max bytes); returns its length or a negative errno for a transport
 * failure.  The daemon's verdict is in the reply's hdr.error.
 */
TXC_API int txc_request_raw(struct txc_client *client, const void *msg, size_t len, int fd,
		    void *reply, size_t reply_max);

#ifdef __cplusplus
}
#endif

#endif /* TXCANCEL_TXCANCEL_H */
