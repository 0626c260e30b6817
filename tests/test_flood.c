// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Nothing lost, nobody let in: exact accounting under a flood, across a
 * kill -9 of txcanceld.
 *
 * Four clients, each with its own prefix and source, tag two UDP sockets
 * each (one cancel ID per socket); one more socket is untagged.  Two sender
 * threads flood every socket with sendmmsg to its own receiver in the sink
 * namespace, which counts per socket with recvmmsg.  While the flood runs:
 *   client 0  never cancels (its streams must arrive whole)
 *   client 1  cancels and clears the ID of its second stream
 *   client 2  cancels and clears its prefix (both streams)
 *   client 3  cancels and clears its source, and reads its completions
 *             slowly, so that its socket and ring overflow; a root watcher
 *             subscribed to its source meanwhile makes it miss batches
 * Halfway, the clients freeze their cancels (ID and source canceled, prefix
 * clear), txcanceld is killed with SIGKILL, stays down for a while and is
 * restarted; the clients reconnect and claim their prefixes and sources.
 *
 * At the end, per stream and per source, exactly:
 *   sent = received + aborted (per-ID counters) + drops the kernel reports
 *   aborted = delivered + ring_lost + backlog_lost   (the client's account)
 *   sequence numbers the client received: each once, in 1..aborted, as
 *   many as delivered; the ones it never saw are exactly
 *   ring_lost + backlog_lost
 * and a stream that was never canceled arrived whole.  Frames the kernel
 * dropped for its own reasons (the sink's socket buffers, the veth) are
 * read from its counters and attributed; anything else is a failure.
 *
 * TXCT_FLOOD_FRAMES sets the number of frames (default 10,000,000),
 * TXCT_FLOOD_BACKLOG the daemon's --backlog (default 1024): a slower
 * machine, such as an emulated one, floods more slowly, and the slow client
 * misses batches only if its socket holds fewer records.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "netns.h"
#include "testlib.h"

#define IF_A		"fA0"	/* managed by txcanceld, in the sender namespace */
#define IF_B		"fB0"	/* its peer, in the sink namespace */
#define ADDR_A		"198.18.61.1"
#define ADDR_B		"198.18.61.2"
#define SPORT0		7700
#define DPORT0		6700

#define DEFAULT_FRAMES	10000000ull
#define N_CLIENTS	4
#define N_STREAMS	(2 * N_CLIENTS + 1)	/* the last one is untagged */
#define UNTAGGED	(N_STREAMS - 1)
#define SENDERS		2
#define SEND_BATCH	64
#define RECV_BATCH	256
#define PAYLOAD		18	/* 60-byte frames: the Ethernet minimum */
#define SINK_RCVBUF	(32 << 20)
#define BACKLOG		"1024"	/* small: the slow client overflows early */
#define TOGGLE_MS	30
#define SLOW_READ_MS	100
#define DOWN_MS		1500	/* how long txcanceld stays down */
#define QUIET_MS	300
#define FLOOD_MAX_MS	600000	/* senders give up after this */

enum role { R_CLEAN, R_ID, R_PREFIX, R_SOURCE };

enum phase { P_RUN, P_FREEZE, P_DOWN, P_END };

struct stream {
	int client;		/* -1: untagged */
	__u16 sport, dport;
	int tx, rx;
	__u32 id;
	__u64 quota;
	_Atomic __u64 sent, received;
	_Atomic __u64 misrouted;	/* datagrams whose marker is another stream's */
	bool done;
	__u64 aborted;		/* per-ID counter at the end */
	__u64 sock_drops;	/* the sink socket's own drop counter */
	__u64 down_sent, down_recv;	/* while txcanceld was down */
};

struct fclient {
	int idx;
	enum role role;
	bool slow;
	struct txc_client *c;
	__u8 prefix;
	__u32 source;
	int streams[2];
	pthread_t thr;
	bool started;
	/* Cancel state this client put in force (its own scope and value). */
	bool canceled;
	__u64 toggles;
	int reconnects;
	/* Completions as received, over every connection. */
	__u8 *seen;		/* bitmap of the seqs received, 0..seq_cap - 1 */
	__u64 seq_cap;
	__u64 records, distinct, dups, bad_seq, foreign, bad_status, bad_delta;
	__u64 batches;
	struct txc_ev_completions acct;	/* the last one received */
	bool have_acct;
	char err[256];
};

static struct {
	char a[FX_NAME_MAX], b[FX_NAME_MAX];
	struct txct_daemon d;
	struct stream s[N_STREAMS];
	struct fclient cl[N_CLIENTS];
	_Atomic int phase;
	_Atomic int frozen;	/* clients that froze their cancels */
	_Atomic int claimed;	/* clients that claimed back after the restart */
	_Atomic bool senders_stop, sink_stop, watcher_stop;
	_Atomic __u64 watcher_records;
	_Atomic int sender_err;
	__u64 t_start;		/* when the senders started (ms) */
} F = { .d = { .pid = 0 } };

static __u64 flood_frames(void)
{
	return txct_env_number("TXCT_FLOOD_FRAMES", 10000, ~0ull, DEFAULT_FRAMES);
}

/* --- kernel counters ------------------------------------------------------ */

struct kdrops {
	__u64 udp_in_errors, udp_rcvbuf_errors, udp_no_ports;	/* sink namespace */
	__u64 udp_sndbuf_errors;	/* sender namespace: every NET_XMIT_DROP */
	__u64 veth_tx_dropped, veth_rx_dropped;
};

/* Field @name of the "Udp:" lines of /proc/net/snmp in @ns. */
static __u64 snmp_udp(const char *ns, const char *name)
{
	char out[8192], *hdr, *val, *save1, *save2, *h, *v;

	if (fx_run_output(out, sizeof(out), "ip netns exec %s cat /proc/net/snmp", ns))
		return ~0ull;
	hdr = strstr(out, "\nUdp: ");
	if (!hdr)
		return ~0ull;
	val = strstr(hdr + 1, "\nUdp: ");
	if (!val)
		return ~0ull;
	*strchr(hdr + 1, '\n') = '\0';
	if (strchr(val + 1, '\n'))
		*strchr(val + 1, '\n') = '\0';
	h = strtok_r(hdr + 6, " ", &save1);
	v = strtok_r(val + 6, " ", &save2);
	for (; h && v; h = strtok_r(NULL, " ", &save1), v = strtok_r(NULL, " ", &save2))
		if (!strcmp(h, name))
			return strtoull(v, NULL, 10);
	return ~0ull;
}

static __u64 link_stat(const char *ns, const char *dev, const char *name)
{
	char out[64];

	if (fx_run_output(out, sizeof(out), "ip netns exec %s cat /sys/class/net/%s/statistics/%s",
			  ns, dev, name))
		return ~0ull;
	return strtoull(out, NULL, 10);
}

/*
 * Whether every counter was read: a failed read (~0) must not make a
 * difference of two failures, 0, pass for a measured one.
 */
static bool kdrops_read(struct kdrops *k, const char *when)
{
	char what[96];

	k->udp_in_errors = snmp_udp(F.b, "InErrors");
	k->udp_rcvbuf_errors = snmp_udp(F.b, "RcvbufErrors");
	k->udp_no_ports = snmp_udp(F.b, "NoPorts");
	k->udp_sndbuf_errors = snmp_udp(F.a, "SndbufErrors");
	k->veth_tx_dropped = link_stat(F.a, IF_A, "tx_dropped");
	k->veth_rx_dropped = link_stat(F.b, IF_B, "rx_dropped");
	snprintf(what, sizeof(what), "the kernel's drop counters read %s", when);
	return ASSERT_TRUE(k->udp_in_errors != ~0ull && k->udp_rcvbuf_errors != ~0ull &&
			   k->udp_no_ports != ~0ull && k->udp_sndbuf_errors != ~0ull &&
			   k->veth_tx_dropped != ~0ull && k->veth_rx_dropped != ~0ull, what);
}

static __u64 sock_meminfo(int fd, int field)
{
	__u32 mi[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len))
		return 0;
	return mi[field];
}

/* --- the testbed ---------------------------------------------------------- */

static bool bed_up(void)
{
	int rcvbuf = SINK_RCVBUF;

	if (!ASSERT_OK(ns_create(F.a, "flood-tx"), "sender namespace") ||
	    !ASSERT_OK(ns_create(F.b, "flood-rx"), "sink namespace") ||
	    !ASSERT_OK(veth_link(F.a, IF_A, ADDR_A, F.b, IF_B, ADDR_B, 24, NULL), "veth link"))
		return false;
	for (int i = 0; i < N_STREAMS; i++) {
		struct stream *s = &F.s[i];
		struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(s->dport) };

		inet_pton(AF_INET, ADDR_B, &dst.sin_addr);
		s->rx = udp_open(F.b, ADDR_B, s->dport);
		s->tx = udp_open(F.a, ADDR_A, s->sport);
		if (!ASSERT_GE0(s->rx, "sink socket") || !ASSERT_GE0(s->tx, "sender socket"))
			return false;
		if (!ASSERT_OK(setsockopt(s->rx, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
					  sizeof(rcvbuf)) ? -errno : 0, "sink SO_RCVBUFFORCE") ||
		    !ASSERT_OK(connect(s->tx, (struct sockaddr *)&dst, sizeof(dst)) ? -errno : 0,
			       "connecting the sender socket"))
			return false;
	}
	return true;
}

static void bed_down(void)
{
	for (int i = 0; i < N_STREAMS; i++) {
		if (F.s[i].tx >= 0)
			close(F.s[i].tx);
		if (F.s[i].rx >= 0)
			close(F.s[i].rx);
		F.s[i].tx = F.s[i].rx = -1;
	}
	ns_delete(F.a);
	ns_delete(F.b);
}

/* --- senders and sink ----------------------------------------------------- */

static void *sender_main(void *arg)
{
	int self = (int)(long)arg;
	__u8 payload[N_STREAMS][PAYLOAD];
	struct mmsghdr msgs[SEND_BATCH];
	struct iovec iov[SEND_BATCH];

	for (int i = 0; i < N_STREAMS; i++)
		memset(payload[i], i, PAYLOAD);
	for (;;) {
		bool busy = false, left = false;

		for (int i = self; i < N_STREAMS; i += SENDERS) {
			struct stream *s = &F.s[i];
			__u64 sent = atomic_load(&s->sent);
			int n, want;

			if (s->done)
				continue;
			left = true;
			if (F.senders_stop || test_now_ms() - F.t_start > FLOOD_MAX_MS)
				return NULL;
			/* Pace on the sink: never more than half its buffer waits there. */
			if (sock_meminfo(s->rx, SK_MEMINFO_RMEM_ALLOC) > SINK_RCVBUF / 2)
				continue;
			want = s->quota - sent < SEND_BATCH ? (int)(s->quota - sent) : SEND_BATCH;
			for (int j = 0; j < want; j++) {
				iov[j] = (struct iovec){ payload[i], PAYLOAD };
				msgs[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j],
									 .msg_iovlen = 1 } };
			}
			n = sendmmsg(s->tx, msgs, want, MSG_DONTWAIT);
			if (n < 0) {
				if (errno == EAGAIN || errno == ENOBUFS)
					continue;
				fprintf(stderr, "flood: sendmmsg on stream %d: %s\n", i,
					strerror(errno));
				F.sender_err = errno;
				return NULL;
			}
			busy = true;
			atomic_fetch_add(&s->sent, n);
			if (sent + n >= s->quota)
				s->done = true;
		}
		if (!left)
			return NULL;
		if (!busy)
			usleep(50);
	}
}

static void *sink_main(void *arg)
{
	static __u8 bufs[RECV_BATCH][64];
	struct mmsghdr msgs[RECV_BATCH];
	struct iovec iov[RECV_BATCH];
	struct epoll_event evs[N_STREAMS];
	int ep = *(int *)arg;

	for (int j = 0; j < RECV_BATCH; j++)
		iov[j] = (struct iovec){ bufs[j], sizeof(bufs[j]) };
	while (!F.sink_stop) {
		int ne = epoll_wait(ep, evs, N_STREAMS, 50);

		for (int e = 0; e < ne; e++) {
			int i = (int)evs[e].data.u32, n;
			struct stream *s = &F.s[i];

			for (;;) {
				for (int j = 0; j < RECV_BATCH; j++)
					msgs[j] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[j],
										 .msg_iovlen = 1 } };
				n = recvmmsg(s->rx, msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
				if (n <= 0)
					break;
				for (int j = 0; j < n; j++)
					if (msgs[j].msg_len != PAYLOAD || bufs[j][0] != i)
						atomic_fetch_add(&s->misrouted, 1);
				atomic_fetch_add(&s->received, n);
			}
		}
	}
	return NULL;
}

static __u64 total_sent(void)
{
	__u64 n = 0;

	for (int i = 0; i < N_STREAMS; i++)
		n += F.s[i].sent;
	return n;
}

static __u64 total_received(void)
{
	__u64 n = 0;

	for (int i = 0; i < N_STREAMS; i++)
		n += F.s[i].received;
	return n;
}

/* Wait until nothing arrives at the sink for QUIET_MS (bounded). */
static void sink_settle(void)
{
	__u64 last = total_received(), since = test_now_ms(), t0 = test_now_ms();

	while (test_now_ms() - since < QUIET_MS && test_now_ms() - t0 < 10000) {
		test_sleep_ms(20);
		if (total_received() != last) {
			last = total_received();
			since = test_now_ms();
		}
	}
}

/* --- clients -------------------------------------------------------------- */

static void on_batch(void *ctx, const struct txc_ev_completions *ev,
		     const struct txc_abort_record *recs)
{
	struct fclient *fc = ctx;
	__u64 fresh = 0;

	if (ev->source != fc->source) {
		fc->foreign += ev->count;
		return;
	}
	for (__u32 i = 0; i < ev->count; i++) {
		__u64 seq = recs[i].seq;

		fc->records++;
		if (recs[i].hdr.status != TXC_STATUS_SEND_ABORTED || recs[i].source != fc->source)
			fc->bad_status++;
		if (!seq || seq >= fc->seq_cap) {
			fc->bad_seq++;
			continue;
		}
		if (fc->seen[seq / 8] & (1u << (seq % 8))) {
			fc->dups++;
			continue;
		}
		fc->seen[seq / 8] |= 1u << (seq % 8);
		fc->distinct++;
		fresh++;
	}
	/* Every batch's delivered grows by exactly the records new to this client. */
	if (fc->have_acct && ev->delivered - fc->acct.delivered != fresh)
		fc->bad_delta++;
	fc->acct = *ev;
	fc->have_acct = true;
	fc->batches++;
}

/* The scope and value this client's cancels toggle. */
static void cancel_target(const struct fclient *fc, __u8 *scope, __u32 *value)
{
	switch (fc->role) {
	case R_ID:
		*scope = TXC_SCOPE_ID;
		*value = F.s[fc->streams[1]].id;
		break;
	case R_PREFIX:
		*scope = TXC_SCOPE_PREFIX;
		*value = fc->prefix;
		break;
	default:
		*scope = TXC_SCOPE_SOURCE;
		*value = fc->source;
		break;
	}
}

static int set_cancel(struct fclient *fc, bool on)
{
	__u8 scope;
	__u32 value;
	int err;

	if (fc->role == R_CLEAN || fc->canceled == on)
		return 0;
	cancel_target(fc, &scope, &value);
	err = on ? txc_cancel(fc->c, scope, value, NULL, 0, NULL) :
		   txc_clear(fc->c, scope, value, NULL);
	if (!err) {
		fc->canceled = on;
		fc->toggles++;
	}
	return err;
}

/* The cancels in force while txcanceld is down: ID and source yes, prefix no. */
static bool freeze_state(const struct fclient *fc)
{
	return fc->role == R_ID || fc->role == R_SOURCE;
}

/* After a crash: connect again (the daemon may not be back yet), claim. */
static int reconnect(struct fclient *fc)
{
	__u64 t0 = test_now_ms();
	int err;

	/* The same client: its accounts go on, a repeated batch is handed out once. */
	while (txc_client_reconnect(fc->c)) {
		if (test_now_ms() - t0 > 30000) {
			snprintf(fc->err, sizeof(fc->err), "reconnecting: %s",
				 txc_client_error(fc->c));
			return -ETIMEDOUT;
		}
		test_sleep_ms(20);
	}
	err = txc_prefix_claim(fc->c, fc->prefix);
	if (!err)
		err = txc_source_claim(fc->c, fc->source);
	if (err) {
		snprintf(fc->err, sizeof(fc->err), "claiming back: %s", txc_client_error(fc->c));
		return err;
	}
	fc->reconnects++;
	F.claimed++;
	return 0;
}

static void *client_main(void *arg)
{
	struct fclient *fc = arg;
	__u64 next_toggle = test_now_ms() + TOGGLE_MS * (fc->idx + 1);
	bool froze = false;
	int err;

	for (;;) {
		int phase = F.phase;

		if (phase == P_END)
			break;
		err = txc_read_completions(fc->c, on_batch, fc, fc->slow ? 0 : 5);
		if (err < 0) {
			if (phase == P_RUN) {
				snprintf(fc->err, sizeof(fc->err), "reading completions: %s",
					 txc_client_error(fc->c));
				return NULL;
			}
			/* txcanceld is gone: claim back from the next instance. */
			if (reconnect(fc))
				return NULL;
			froze = false;
			continue;
		}
		if (phase == P_FREEZE && !froze) {
			if (set_cancel(fc, freeze_state(fc))) {
				snprintf(fc->err, sizeof(fc->err), "freezing: %s",
					 txc_client_error(fc->c));
				return NULL;
			}
			froze = true;
			F.frozen++;
		}
		if (phase == P_RUN && test_now_ms() >= next_toggle) {
			if (set_cancel(fc, !fc->canceled)) {
				snprintf(fc->err, sizeof(fc->err), "toggling: %s",
					 txc_client_error(fc->c));
				return NULL;
			}
			next_toggle = test_now_ms() + TOGGLE_MS;
		}
		if (fc->slow)
			test_sleep_ms(SLOW_READ_MS);
	}
	return NULL;
}

static bool client_setup(struct fclient *fc)
{
	char what[128];

	snprintf(what, sizeof(what), "client %d: connecting", fc->idx);
	if (!ASSERT_OK(txc_client_open(&fc->c, F.d.sock), what))
		return false;
	snprintf(what, sizeof(what), "client %d: prefix, source, tags, counters", fc->idx);
	if (!ASSERT_OK(txc_generate_partial_cancel_id(fc->c, &fc->prefix), what) ||
	    !ASSERT_OK(txc_source_open(fc->c, &fc->source), what))
		return false;
	for (int k = 0; k < 2; k++) {
		struct stream *s = &F.s[fc->streams[k]];

		s->id = TXC_ID_MAKE(fc->prefix, k + 1);
		if (!ASSERT_OK(txc_tag_socket(fc->c, s->tx, s->id, fc->source, NULL), what) ||
		    !ASSERT_OK(txc_count_id(fc->c, s->id, 1), what))
			return false;
	}
	/* A source aborts at most what its two streams send: seqs 1..that. */
	fc->seq_cap = F.s[fc->streams[0]].quota + F.s[fc->streams[1]].quota + 1;
	fc->seen = calloc(fc->seq_cap / 8 + 1, 1);
	return ASSERT_TRUE(fc->seen != NULL, "sequence bitmap");
}

/* Read until the account balances against the source's final counters. */
static bool client_drain(struct fclient *fc, const struct txc_stats_entry *st)
{
	__u64 t0 = test_now_ms();

	while (test_now_ms() - t0 < 20000) {
		const struct txc_ev_completions *a = &fc->acct;
		int n = txc_read_completions(fc->c, on_batch, fc, 100);

		if (n < 0)
			return false;
		if (fc->have_acct && a->aborted == st->counts.aborted_frames &&
		    a->ring_lost == st->ring_lost &&
		    a->delivered + a->ring_lost + a->backlog_lost == a->aborted)
			return true;
	}
	return fc->have_acct;
}

/* A root client subscribed to client 3's source, reading as fast as it can. */
static void count_watched(void *ctx, const struct txc_ev_completions *ev,
			  const struct txc_abort_record *recs)
{
	(void)ctx;
	(void)recs;
	F.watcher_records += ev->count;
}

static void *watcher_loop(void *arg)
{
	struct txc_client *w = arg;

	while (!F.watcher_stop)
		if (txc_read_completions(w, count_watched, NULL, 10) < 0)
			break;
	return NULL;
}

/* --- the test ------------------------------------------------------------- */

static void streams_init(__u64 frames)
{
	for (int i = 0; i < N_STREAMS; i++) {
		struct stream *s = &F.s[i];

		*s = (struct stream){
			.client = i == UNTAGGED ? -1 : i / 2,
			.sport = SPORT0 + i,
			.dport = DPORT0 + i,
			.tx = -1, .rx = -1,
			.quota = frames / N_STREAMS + (i < (int)(frames % N_STREAMS)),
		};
	}
	for (int c = 0; c < N_CLIENTS; c++)
		F.cl[c] = (struct fclient){
			.idx = c,
			.role = (enum role)c,
			.slow = c == R_SOURCE,
			.streams = { 2 * c, 2 * c + 1 },
		};
}

/* Whether stream @i was ever under a cancel. */
static bool stream_canceled_ever(int i)
{
	const struct stream *s = &F.s[i];

	if (s->client < 0 || F.cl[s->client].role == R_CLEAN)
		return false;
	return F.cl[s->client].role != R_ID || i == F.cl[s->client].streams[1];
}

/* Canceled while txcanceld was down (see freeze_state()). */
static bool stream_frozen_canceled(int i)
{
	const struct stream *s = &F.s[i];

	if (s->client < 0 || !stream_canceled_ever(i))
		return false;
	return freeze_state(&F.cl[s->client]);
}

static void crash_and_restart(__u64 *down_ms)
{
	__u64 sent0[N_STREAMS], recv0[N_STREAMS], t0;
	char what[160];

	F.phase = P_FREEZE;
	for (t0 = test_now_ms(); F.frozen < N_CLIENTS && test_now_ms() - t0 < 10000;)
		test_sleep_ms(5);
	if (!ASSERT_EQ(F.frozen, N_CLIENTS, "clients that froze their cancels"))
		return;
	F.phase = P_DOWN;
	txct_daemon_kill(&F.d);
	/*
	 * Frames that passed the hook before the cancels froze may still wait
	 * in the sink's sockets: the downtime starts once those are read.
	 */
	for (t0 = test_now_ms(); test_now_ms() - t0 < 10000; test_sleep_ms(5)) {
		bool queued = false;

		for (int i = 0; i < N_STREAMS; i++)
			queued |= stream_frozen_canceled(i) &&
				  sock_meminfo(F.s[i].rx, SK_MEMINFO_RMEM_ALLOC);
		if (!queued)
			break;
	}
	test_sleep_ms(20);
	for (int i = 0; i < N_STREAMS; i++) {
		sent0[i] = F.s[i].sent;
		recv0[i] = F.s[i].received;
	}
	t0 = test_now_ms();
	test_sleep_ms(DOWN_MS);
	for (int i = 0; i < N_STREAMS; i++) {
		F.s[i].down_sent = F.s[i].sent - sent0[i];
		F.s[i].down_recv = F.s[i].received - recv0[i];
	}
	*down_ms = test_now_ms() - t0;
	if (!ASSERT_OK(txct_daemon_restart(&F.d), "restarting txcanceld"))
		return;
	for (t0 = test_now_ms(); F.claimed < N_CLIENTS && test_now_ms() - t0 < 20000;)
		test_sleep_ms(5);
	if (!ASSERT_EQ(F.claimed, N_CLIENTS, "clients that claimed their prefix and source back"))
		txct_daemon_dump_log(&F.d);
	F.phase = P_RUN;

	for (int i = 0; i < N_STREAMS; i++) {
		struct stream *s = &F.s[i];

		if (!s->down_sent)
			continue;	/* its quota ran out before */
		if (stream_frozen_canceled(i)) {
			snprintf(what, sizeof(what), "daemon down: stream %d (canceled) at the sink", i);
			ASSERT_EQ(s->down_recv, 0, what);
		} else {
			snprintf(what, sizeof(what), "daemon down: stream %d (not canceled) flows", i);
			ASSERT_TRUE(s->down_recv > 0, what);
		}
	}
}

/* The threads, clients and kernel counters of one flood, and what it measured. */
struct flood_run {
	__u64 frames;
	pthread_t senders[SENDERS], sink, watcher;
	int n_senders;
	bool sink_up, watcher_up;
	struct txc_client *root;	/* the watcher's client */
	int ep;				/* the sink's epoll */
	struct kdrops k0, k1;		/* before and after the flood */
	__u64 t_flood, down_ms;
	/* Summed over the streams by check_streams(). */
	__u64 veth_drops, sum_aborted, sum_sockdrops, unattributed;
};

/* The testbed, txcanceld, its clients and the root watcher; then the flood starts. */
static bool flood_start(struct flood_run *run)
{
	const char *backlog = getenv("TXCT_FLOOD_BACKLOG");
	const char *const args[] = { "-i", IF_A, "--backlog",
				     backlog && *backlog ? backlog : BACKLOG, NULL };

	if (!bed_up())
		return false;
	if (!ASSERT_OK(txct_daemon_start(&F.d, F.a, args), "starting txcanceld"))
		return false;
	for (int c = 0; c < N_CLIENTS; c++)
		if (!client_setup(&F.cl[c]))
			return false;
	/* The root watcher makes the slow client miss batches (backlog_lost). */
	if (!ASSERT_OK(txc_client_open(&run->root, F.d.sock), "root client") ||
	    !ASSERT_OK(txc_subscribe(run->root, F.cl[R_SOURCE].source),
		       "root subscribes to client 3"))
		return false;

	run->ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < N_STREAMS; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		epoll_ctl(run->ep, EPOLL_CTL_ADD, F.s[i].rx, &ev);
	}
	if (!kdrops_read(&run->k0, "before the flood"))
		return false;
	if (!ASSERT_OK(pthread_create(&run->sink, NULL, sink_main, &run->ep), "sink thread"))
		return false;
	run->sink_up = true;
	if (!ASSERT_OK(pthread_create(&run->watcher, NULL, watcher_loop, run->root),
		       "watcher thread"))
		return false;
	run->watcher_up = true;
	for (int c = 0; c < N_CLIENTS; c++) {
		if (!ASSERT_OK(pthread_create(&F.cl[c].thr, NULL, client_main, &F.cl[c]),
			       "client thread"))
			return false;
		F.cl[c].started = true;
	}
	F.t_start = test_now_ms();
	for (; run->n_senders < SENDERS; run->n_senders++)
		if (!ASSERT_OK(pthread_create(&run->senders[run->n_senders], NULL, sender_main,
					      (void *)(long)run->n_senders), "sender thread"))
			return false;
	return true;
}

/*
 * Halfway the watcher leaves, txcanceld crashes and comes back; then the
 * senders finish, the sink reads what is left and the clients stop.
 */
static bool flood_through_crash(struct flood_run *run)
{
	char what[200];

	while (total_sent() < run->frames / 2 && !F.sender_err &&
	       test_now_ms() - F.t_start < FLOOD_MAX_MS)
		test_sleep_ms(10);
	F.watcher_stop = true;
	pthread_join(run->watcher, NULL);
	run->watcher_up = false;
	txc_client_close(run->root);
	run->root = NULL;
	crash_and_restart(&run->down_ms);

	for (int i = 0; i < run->n_senders; i++)
		pthread_join(run->senders[i], NULL);
	run->n_senders = 0;
	run->t_flood = test_now_ms() - F.t_start;
	ASSERT_EQ(F.sender_err, 0, "sender errors");
	sink_settle();
	F.phase = P_END;
	for (int c = 0; c < N_CLIENTS; c++) {
		pthread_join(F.cl[c].thr, NULL);
		F.cl[c].started = false;
		snprintf(what, sizeof(what), "client %d: %s", c, F.cl[c].err);
		ASSERT_TRUE(!F.cl[c].err[0], what);
	}
	return kdrops_read(&run->k1, "after the flood");
}

/* Point 4, per stream: every frame sent is received, aborted or dropped by the kernel. */
static void check_streams(struct flood_run *run)
{
	const struct kdrops *k0 = &run->k0, *k1 = &run->k1;
	__u64 sum_gap = 0;
	char what[200];

	run->veth_drops = (k1->veth_tx_dropped - k0->veth_tx_dropped) +
			  (k1->veth_rx_dropped - k0->veth_rx_dropped);
	for (int i = 0; i < N_STREAMS; i++) {
		struct stream *s = &F.s[i];

		s->sock_drops = sock_meminfo(s->rx, SK_MEMINFO_DROPS);
		if (s->client >= 0) {
			struct txc_stats_entry e;
			struct fclient *fc = &F.cl[s->client];

			if (ASSERT_EQ(txc_stats(fc->c, TXC_SCOPE_ID, s->id, &e, 1), 1,
				      "per-ID counters"))
				s->aborted = e.counts.aborted_frames;
		}
		snprintf(what, sizeof(what), "stream %d: sent all of its quota", i);
		ASSERT_EQ(s->sent, s->quota, what);
		snprintf(what, sizeof(what), "stream %d: datagrams of another stream", i);
		ASSERT_EQ(s->misrouted, 0, what);
		snprintf(what, sizeof(what), "stream %d: received + aborted + socket drops <= sent", i);
		ASSERT_TRUE(s->received + s->aborted + s->sock_drops <= s->sent, what);
		run->sum_aborted += s->aborted;
		run->sum_sockdrops += s->sock_drops;
		sum_gap += s->sent - s->received - s->aborted - s->sock_drops;
		if (!stream_canceled_ever(i)) {
			snprintf(what, sizeof(what), "stream %d (never canceled): aborted", i);
			ASSERT_EQ(s->aborted, 0, what);
		}
	}
	/* What is left can only be the veth's drops; anything else is unexplained. */
	run->unattributed = sum_gap > run->veth_drops ? sum_gap - run->veth_drops : 0;
	ASSERT_EQ(sum_gap, run->veth_drops, "frames neither received, aborted nor dropped by the "
		  "sink's sockets: the veth's drops");
	ASSERT_EQ(k1->udp_rcvbuf_errors - k0->udp_rcvbuf_errors, run->sum_sockdrops,
		  "sink RcvbufErrors = the sink sockets' drops");
	ASSERT_EQ(k1->udp_no_ports - k0->udp_no_ports, 0, "sink NoPorts");
	/* Every frame dropped at the egress hook or by the veth is an ENOBUFS send. */
	ASSERT_EQ(k1->udp_sndbuf_errors - k0->udp_sndbuf_errors,
		  run->sum_aborted + (k1->veth_tx_dropped - k0->veth_tx_dropped),
		  "sender SndbufErrors = aborted + veth tx drops");
	if (!run->sum_sockdrops && !run->veth_drops)
		for (int i = 0; i < N_STREAMS; i++) {
			snprintf(what, sizeof(what), "stream %d: sent = received + aborted", i);
			ASSERT_EQ(F.s[i].sent, F.s[i].received + F.s[i].aborted, what);
		}
}

static void print_streams(const struct flood_run *run)
{
	const struct kdrops *k0 = &run->k0, *k1 = &run->k1;

	printf("# flood: %llu frames in %.1f s (%.0f frames/s); txcanceld down %llu ms\n",
	       (unsigned long long)total_sent(), run->t_flood / 1000.0,
	       run->t_flood ? total_sent() * 1000.0 / run->t_flood : 0.0,
	       (unsigned long long)run->down_ms);
	printf("# kernel: sink socket drops %llu, RcvbufErrors +%llu, InErrors +%llu, "
	       "veth drops %llu, sender SndbufErrors +%llu\n",
	       (unsigned long long)run->sum_sockdrops,
	       (unsigned long long)(k1->udp_rcvbuf_errors - k0->udp_rcvbuf_errors),
	       (unsigned long long)(k1->udp_in_errors - k0->udp_in_errors),
	       (unsigned long long)run->veth_drops,
	       (unsigned long long)(k1->udp_sndbuf_errors - k0->udp_sndbuf_errors));
	for (int i = 0; i < N_STREAMS; i++) {
		char label[24] = "untagged";

		if (F.s[i].client >= 0)
			snprintf(label, sizeof(label), "client %d", F.s[i].client);
		printf("# stream %d (%s): sent %llu received %llu aborted %llu "
		       "sock drops %llu; while down: sent %llu received %llu\n", i, label,
		       (unsigned long long)F.s[i].sent, (unsigned long long)F.s[i].received,
		       (unsigned long long)F.s[i].aborted, (unsigned long long)F.s[i].sock_drops,
		       (unsigned long long)F.s[i].down_sent, (unsigned long long)F.s[i].down_recv);
	}
}

/*
 * Points 4 and 5, per source: its counters add up to its streams', and the
 * client's account of the completions to the counters and to the sequence
 * numbers it received.
 */
static void check_source(const struct flood_run *run, struct fclient *fc)
{
	struct stream *s0 = &F.s[fc->streams[0]], *s1 = &F.s[fc->streams[1]];
	struct txc_stats_entry st;
	const struct txc_ev_completions *a = &fc->acct;
	__u64 sent = s0->sent + s1->sent, recv = s0->received + s1->received;
	__u64 drops = s0->sock_drops + s1->sock_drops, missing;
	int c = fc->idx;
	char what[200];

	if (fc->role != R_CLEAN && fc->canceled)
		set_cancel(fc, false);
	snprintf(what, sizeof(what), "client %d: STATS of its source", c);
	if (!ASSERT_EQ(txc_stats(fc->c, TXC_SCOPE_SOURCE, fc->source, &st, 1), 1, what))
		return;
	snprintf(what, sizeof(what), "client %d: account balances with STATS", c);
	if (st.counts.aborted_frames)
		ASSERT_TRUE(client_drain(fc, &st), what);
	missing = a->aborted - fc->distinct;
	printf("# source %u (client %d, %s): sent %llu received %llu aborted %llu | "
	       "delivered %llu ring_lost %llu backlog_lost %llu | records %llu distinct %llu "
	       "dups %llu unseen %llu | toggles %llu reconnects %d\n",
	       fc->source, c,
	       (const char *[]){ "clean", "ID", "prefix", "source, slow" }[fc->role],
	       (unsigned long long)sent, (unsigned long long)recv,
	       (unsigned long long)st.counts.aborted_frames,
	       (unsigned long long)a->delivered, (unsigned long long)a->ring_lost,
	       (unsigned long long)a->backlog_lost, (unsigned long long)fc->records,
	       (unsigned long long)fc->distinct, (unsigned long long)fc->dups,
	       (unsigned long long)missing, (unsigned long long)fc->toggles, fc->reconnects);

	snprintf(what, sizeof(what), "source %u: aborted = sum of its IDs' aborted", fc->source);
	ASSERT_EQ(st.counts.aborted_frames, s0->aborted + s1->aborted, what);
	snprintf(what, sizeof(what), "source %u: passed + aborted = sent - veth drops",
		 fc->source);
	ASSERT_TRUE(st.counts.passed_frames + st.counts.aborted_frames <= sent &&
		    sent - st.counts.passed_frames - st.counts.aborted_frames <= run->veth_drops,
		    what);
	if (!run->veth_drops) {
		snprintf(what, sizeof(what), "source %u: sent = received + aborted + "
			 "sink socket drops", fc->source);
		ASSERT_EQ(sent, recv + st.counts.aborted_frames + drops, what);
	}
	snprintf(what, sizeof(what), "client %d: reconnected once", c);
	ASSERT_EQ(fc->reconnects, 1, what);
	if (!st.counts.aborted_frames)
		return;
	snprintf(what, sizeof(what), "source %u: aborted = delivered + ring_lost + "
		 "backlog_lost", fc->source);
	ASSERT_EQ(a->aborted, a->delivered + a->ring_lost + a->backlog_lost, what);
	snprintf(what, sizeof(what), "source %u: account's aborted = STATS", fc->source);
	ASSERT_EQ(a->aborted, st.counts.aborted_frames, what);
	snprintf(what, sizeof(what), "source %u: STATS delivered, backlog_lost = account",
		 fc->source);
	ASSERT_TRUE(st.delivered == a->delivered && st.backlog_lost == a->backlog_lost, what);
	snprintf(what, sizeof(what), "source %u: distinct seqs received = delivered",
		 fc->source);
	ASSERT_EQ(fc->distinct, a->delivered, what);
	snprintf(what, sizeof(what), "source %u: seqs never received = ring_lost + "
		 "backlog_lost", fc->source);
	ASSERT_EQ(missing, a->ring_lost + a->backlog_lost, what);
	snprintf(what, sizeof(what), "source %u: seqs outside 1..aborted, bad records, "
		 "records of other sources", fc->source);
	ASSERT_EQ(fc->bad_seq + fc->bad_status + fc->foreign, 0, what);
	snprintf(what, sizeof(what), "source %u: batches whose delivered did not grow by "
		 "their new records", fc->source);
	ASSERT_EQ(fc->bad_delta, 0, what);
	/*
	 * A batch sent just before the kill and recorded after it comes again
	 * from the new daemon; the library hands it out once.
	 */
	snprintf(what, sizeof(what), "source %u: seqs received twice", fc->source);
	ASSERT_EQ(fc->dups, 0, what);
	if (fc->slow) {
		ASSERT_TRUE(a->ring_lost > 0, "slow client: ring losses reported");
		ASSERT_TRUE(a->backlog_lost > 0, "slow client: batches missed while the "
			    "watcher read (backlog_lost)");
	} else {
		/*
		 * Nobody else reads its source: what it loses can only be its
		 * ring overflowing (while the daemon is down, or busy).
		 */
		snprintf(what, sizeof(what), "source %u: nothing missed by the only "
			 "subscriber", fc->source);
		ASSERT_EQ(a->backlog_lost, 0, what);
	}
}

/* Every thread joined, every client closed, txcanceld stopped, the testbed gone. */
static void flood_stop(struct flood_run *run)
{
	F.senders_stop = true;
	for (int i = 0; i < run->n_senders; i++)
		pthread_join(run->senders[i], NULL);
	F.phase = P_END;
	for (int c = 0; c < N_CLIENTS; c++)
		if (F.cl[c].started)
			pthread_join(F.cl[c].thr, NULL);
	F.watcher_stop = true;
	if (run->watcher_up)
		pthread_join(run->watcher, NULL);
	F.sink_stop = true;
	if (run->sink_up)
		pthread_join(run->sink, NULL);
	if (run->ep >= 0)
		close(run->ep);
	txc_client_close(run->root);
	for (int c = 0; c < N_CLIENTS; c++) {
		txc_client_close(F.cl[c].c);
		free(F.cl[c].seen);
	}
	if (F.d.pid > 0 && !ASSERT_EQ(txct_daemon_stop(&F.d), 0, "txcanceld exit status"))
		txct_daemon_dump_log(&F.d);
	txct_daemon_cleanup(&F.d);
	bed_down();
}

/*
 * One measurement, not subtests: every check is of the whole flood, made
 * once it is over.
 */
static void test_flood(void)
{
	struct flood_run run = { .frames = flood_frames(), .ep = -1 };

	streams_init(run.frames);
	if (flood_start(&run) && flood_through_crash(&run)) {
		check_streams(&run);
		print_streams(&run);
		for (int c = 0; c < N_CLIENTS; c++)
			check_source(&run, &F.cl[c]);
		printf("# watcher: %llu records; unattributed loss: %llu\n",
		       (unsigned long long)F.watcher_records,
		       (unsigned long long)run.unattributed);
	}
	flood_stop(&run);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
		{ "flood", test_flood },
	};
	int ret;

	if (fx_init())
		return 1;
	ret = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	fx_cleanup();
	return ret;
}
