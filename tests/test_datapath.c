// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF_PROG_TEST_RUN tests of the datapath: every tagging source test-run can
 * express (mark through ctx_in, flows through crafted frames), every cancel
 * scope, clear, expiry, ID 0, precedence, "never retag", truncated and
 * garbage frames, GSO metadata, the exact abort records and counters, and
 * the ring-full path.  Every test starts from reset map state.
 *
 * Socket-cookie and cgroup tagging need real sockets (test-run gives the
 * program a fresh dummy socket each run): they are in test_netns.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "pkt.h"
#include "testlib.h"
#include "tag_kinds.h"
#include "values.h"
#include "txcancel/proto.h"

#define TC_NEXT		(-1)
#define TC_DROP		2
#define XDP_DROP_RC	1
#define XDP_PASS_RC	2
#define LO_IFINDEX	1	/* test-run's default device */

#define PREFIX_A	0x05
#define PREFIX_B	0x06
#define ID_A1		TXC_ID_MAKE(PREFIX_A, 1)
#define ID_A2		TXC_ID_MAKE(PREFIX_A, 2)
#define ID_B1		TXC_ID_MAKE(PREFIX_B, 1)
#define SRC_1		1
#define SRC_2		2

static struct txdp *dp;
static char pin_dir[64];	/* where dp pins its maps; a second instance reuses them */

/*
 * The loader's messages: kept, not printed, so that expected refusals do not
 * clutter the log and tests can check that an error names the problem.
 */
static char last_log[512];

static void capture_log(enum txdp_log_level level, const char *fmt, va_list ap)
{
	if (level <= TXDP_LOG_WARN)
		vsnprintf(last_log, sizeof(last_log), fmt, ap);
}

#define ASSERT_LOGGED(text, what) \
	ASSERT_TRUE(strstr(last_log, text) != NULL, what ": the error names the problem")

/* --- frames --------------------------------------------------------------- */

/* Macros as well, for static initializers (a const object is not a constant in C). */
#define UDP4_SPEC { .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.2", \
		    .sport = 40000, .dport = 5001, .frame_len = 64 }
#define UDP6_SPEC { .family = 6, .saddr = "2001:db8::1", .daddr = "2001:db8:1::2", \
		    .sport = 40000, .dport = 5001, .frame_len = 78 }

static const struct pkt_spec udp4 = UDP4_SPEC;
static const struct pkt_spec udp6 = UDP6_SPEC;

struct frame {
	__u8 data[256];
	size_t len;
};

static struct frame frame_of(const struct pkt_spec *spec)
{
	struct frame f;

	f.len = pkt_build(spec, f.data, sizeof(f.data));
	return f;
}

static struct txc_flow_key flow_key_of(const struct pkt_spec *s)
{
	struct txc_flow_key k = {
		.family = s->family, .proto = s->proto ? s->proto : IPPROTO_UDP,
		.sport = htons(s->sport), .dport = htons(s->dport),
	};

	pkt_addr(s->family, s->saddr, k.saddr);
	pkt_addr(s->family, s->daddr, k.daddr);
	return k;
}

/* --- running the programs ------------------------------------------------- */

struct tc_in {
	__u32 mark;
	__u32 gso_segs;
	__u32 gso_size;
};

/*
 * Run the TC program once.  Also checks that the frame and its mark come out
 * exactly as they went in: txcancel never modifies a frame.
 */
static int run_tc(const struct frame *f, const struct tc_in *in, int *retval)
{
	struct __sk_buff skb = {};
	struct __sk_buff skb_out = {};
	__u8 out[sizeof(f->data) + 64];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->data, .data_size_in = f->len,
		.data_out = out, .data_size_out = sizeof(out),
		.ctx_in = &skb, .ctx_size_in = sizeof(skb),
		.ctx_out = &skb_out, .ctx_size_out = sizeof(skb_out),
		.repeat = 1);
	int err;

	if (in) {
		skb.mark = in->mark;
		skb.gso_segs = in->gso_segs;
		skb.gso_size = in->gso_size;
	}
	err = bpf_prog_test_run_opts(txdp_prog_fd(dp, TXDP_PROG_TC_EGRESS), &opts);
	if (err)
		return -errno;
	*retval = (int)opts.retval;
	if (!ASSERT_EQ(opts.data_size_out, f->len, "frame length after the program") ||
	    !ASSERT_MEMEQ(out, f->data, f->len, "frame bytes after the program") ||
	    !ASSERT_EQ(skb_out.mark, skb.mark, "mark after the program"))
		return -EBADMSG;
	return 0;
}

static int tc_verdict(const struct frame *f, __u32 mark)
{
	struct tc_in in = { .mark = mark };
	int rc, err;

	err = run_tc(f, &in, &rc);
	return err ? err * 1000 : rc;	/* an error can never look like a verdict */
}

static int xdp_verdict(enum txdp_prog prog, const struct frame *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = f->data, .data_size_in = f->len, .repeat = 1);

	if (bpf_prog_test_run_opts(txdp_prog_fd(dp, prog), &opts))
		return -errno * 1000;
	return (int)opts.retval;
}

/* --- state helpers -------------------------------------------------------- */

static bool reset(void)
{
	return ASSERT_OK(txdp_reset(dp), "reset map state");
}

static bool add_flow(const struct pkt_spec *s, __u32 id, __u32 source)
{
	struct txc_flow_key k = flow_key_of(s);
	struct txc_tag tag = { .cancel_id = id, .source = source };

	return ASSERT_OK(txdp_tag_add(dp, TXC_TAG_FLOW, &k, &tag), "add flow rule");
}

static bool add_mark(__u32 mask, __u32 mark, __u32 id, __u32 source)
{
	struct txc_tag tag = { .cancel_id = id, .source = source };

	return ASSERT_OK(txdp_set_mark_mask(dp, mask), "set mark mask") &&
	       ASSERT_OK(txdp_tag_add(dp, TXC_TAG_MARK, &mark, &tag), "add mark rule");
}

static struct txc_source_stats stats_of(__u32 source)
{
	struct txc_source_stats s = {};

	ASSERT_OK(txdp_source_stats(dp, source, &s), "read source stats");
	return s;
}

static bool stats_are(__u32 source, __u64 passed, __u64 passed_bytes, __u64 aborted,
		      __u64 aborted_bytes, __u64 lost)
{
	struct txc_source_stats s = stats_of(source);
	bool ok;

	/* Every field, so that a failure reports all that differ. */
	ok = ASSERT_EQ(s.passed_frames, passed, "passed_frames");
	ok &= ASSERT_EQ(s.passed_bytes, passed_bytes, "passed_bytes");
	ok &= ASSERT_EQ(s.aborted_frames, aborted, "aborted_frames");
	ok &= ASSERT_EQ(s.aborted_bytes, aborted_bytes, "aborted_bytes");
	ok &= ASSERT_EQ(s.lost_reports, lost, "lost_reports");
	return ok;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* --- reading rings -------------------------------------------------------- */

#define MAX_RECORDS 8192

struct ring_reader {
	struct ring_buffer *rb;
	int fd;
	size_t n;
	struct txc_abort_record rec[MAX_RECORDS];
	size_t bad_size;
	bool capture;		/* version 2 records expected: keep their bytes */
	__u8 bytes[MAX_RECORDS][TXC_CAPTURE_MAX];
};

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct ring_reader *r = ctx;
	const struct txc_abort_record *rec = data;

	if (r->capture && size >= sizeof(*rec) && size <= sizeof(*rec) + TXC_CAPTURE_MAX) {
		if (r->n < MAX_RECORDS) {
			memcpy(&r->rec[r->n], data, sizeof(*rec));
			memcpy(r->bytes[r->n], rec + 1, size - sizeof(*rec));
		}
		r->n++;
		return 0;
	}
	if (size != sizeof(struct txc_abort_record)) {
		r->bad_size++;
		return 0;
	}
	if (r->n < MAX_RECORDS)
		memcpy(&r->rec[r->n], data, size);
	r->n++;
	return 0;
}

static struct ring_reader *ring_open(__u32 source)
{
	struct ring_reader *r = calloc(1, sizeof(*r));

	if (!ASSERT_TRUE(r != NULL, "alloc ring reader"))
		return NULL;
	r->fd = txdp_ring_open(dp, source);
	if (!ASSERT_GE0(r->fd, "open source ring"))
		goto fail;
	r->rb = ring_buffer__new(r->fd, ring_cb, r, NULL);
	if (!ASSERT_TRUE(r->rb != NULL, "ring_buffer__new"))
		goto fail;
	return r;
fail:
	if (r->fd >= 0)
		close(r->fd);
	free(r);
	return NULL;
}

/* Consume what the ring holds now; returns the number of records read. */
static size_t ring_drain(struct ring_reader *r)
{
	size_t before = r->n;

	ring_buffer__consume(r->rb);
	ASSERT_EQ(r->bad_size, 0, "records of a wrong size");
	return r->n - before;
}

static void ring_close(struct ring_reader *r)
{
	if (!r)
		return;
	ring_buffer__free(r->rb);
	close(r->fd);
	free(r);
}

/* The frame summary of a whole (untruncated) frame built from @spec. */
static bool summary_is(const struct txc_frame_summary *sum, const struct pkt_spec *spec)
{
	bool ok = true;
	__u8 addr[16];

	ok &= ASSERT_EQ(sum->family, spec->family, "summary family");
	ok &= ASSERT_EQ(sum->vlan_tci, spec->nvlan ? spec->vlan_tci[0] : 0, "summary vlan");
	ok &= ASSERT_EQ(sum->flags, 0, "summary flags");
	if (spec->family) {
		ok &= ASSERT_EQ(sum->l4_proto, spec->proto ? spec->proto : IPPROTO_UDP,
				"summary l4_proto");
		ok &= ASSERT_EQ(ntohs(sum->sport), spec->sport, "summary sport");
		ok &= ASSERT_EQ(ntohs(sum->dport), spec->dport, "summary dport");
		pkt_addr(spec->family, spec->saddr, addr);
		ok &= ASSERT_MEMEQ(sum->saddr, addr, 16, "summary saddr");
		pkt_addr(spec->family, spec->daddr, addr);
		ok &= ASSERT_MEMEQ(sum->daddr, addr, 16, "summary daddr");
	}
	return ok;
}

/* Every field of @rec against what the frame @spec should have produced. */
static bool record_is(const struct txc_abort_record *rec, const struct pkt_spec *spec,
		      size_t len, __u32 id, __u32 source, __u64 seq, __u8 hook,
		      __u8 kind, __u8 scope, __u64 t_before, __u64 t_after)
{
	bool ok = true;

	ok &= ASSERT_EQ(rec->hdr.version, TXC_RECORD_VERSION, "record version");
	ok &= ASSERT_EQ(rec->hdr.type, TXC_RECORD_ABORT, "record type");
	ok &= ASSERT_EQ(rec->hdr.size, sizeof(*rec), "record size");
	ok &= ASSERT_EQ(rec->hdr.status, 0xC023000C, "status NDIS_STATUS_SEND_ABORTED");
	ok &= ASSERT_EQ(rec->cancel_id, id, "record cancel_id");
	ok &= ASSERT_EQ(rec->source, source, "record source");
	ok &= ASSERT_EQ(rec->seq, seq, "record seq");
	ok &= ASSERT_TRUE(rec->tstamp_ns >= t_before && rec->tstamp_ns <= t_after,
			  "record timestamp within the run");
	ok &= ASSERT_EQ(rec->ifindex, LO_IFINDEX, "record ifindex");
	ok &= ASSERT_EQ(rec->len, len, "record len");
	ok &= ASSERT_EQ(rec->hook, hook, "record hook");
	ok &= ASSERT_EQ(rec->tag_kind, kind, "record tag_kind");
	ok &= ASSERT_EQ(rec->scope, scope, "record scope");
	ok &= ASSERT_EQ(rec->where, TXC_AT_HOOK, "record where: at the hook");
	ok &= ASSERT_EQ(rec->reserved2, 0, "record reserved2");
	ok &= summary_is(&rec->frame, spec);
	return ok;
}

/* --- tests ---------------------------------------------------------------- */

/* Frames nobody tagged continue untouched, whatever rules exist. */
static void test_untagged(void)
{
	struct pkt_spec other = udp4;
	struct frame f4 = frame_of(&udp4), f6 = frame_of(&udp6);

	if (!reset())
		return;
	ASSERT_EQ(tc_verdict(&f4, 0), TC_NEXT, "no rules: IPv4 passes");
	ASSERT_EQ(tc_verdict(&f6, 0), TC_NEXT, "no rules: IPv6 passes");
	ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &f4), XDP_PASS_RC, "no rules: XDP passes");

	/* Rules of every kind, all canceled, none matching this frame. */
	other.dport = 6000;
	if (!add_flow(&other, ID_A1, SRC_1) || !add_mark(0xffffffff, 0x77, ID_A1, SRC_1))
		return;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_PREFIX, PREFIX_A, 0, 0), "cancel prefix");
	ASSERT_EQ(tc_verdict(&f4, 0), TC_NEXT, "unmatched IPv4 passes");
	ASSERT_EQ(tc_verdict(&f4, 0x78), TC_NEXT, "unmatched mark passes");
	ASSERT_EQ(tc_verdict(&f6, 0), TC_NEXT, "unmatched IPv6 passes");
	stats_are(SRC_1, 0, 0, 0, 0, 0);
}

struct tag_case {
	const char *name;
	struct pkt_spec spec;
	__u32 mark_mask, mark, rule_mark;	/* rule_mark != 0: tag by mark */
};

static const struct tag_case tag_cases[] = {
	{ "flow_ipv4_udp", .spec = UDP4_SPEC },
	{ "flow_ipv6_udp", .spec = UDP6_SPEC },
	{ "flow_ipv4_tcp", .spec = { .family = 4, .proto = IPPROTO_TCP, .saddr = "198.18.0.1",
				     .daddr = "198.18.1.2", .sport = 1234, .dport = 80 } },
	{ "flow_ipv4_icmp", .spec = { .family = 4, .proto = IPPROTO_ICMP, .saddr = "198.18.0.1",
				      .daddr = "198.18.1.2" } },
	{ "flow_ipv4_vlan", .spec = { .family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.2",
				      .sport = 7, .dport = 9, .nvlan = 1, .vlan_tci = { 100 } } },
	{ "flow_ipv6_qinq", .spec = { .family = 6, .saddr = "2001:db8::1", .daddr = "2001:db8::2",
				      .sport = 7, .dport = 9, .nvlan = 2,
				      .vlan_tci = { 0x2064, 200 } } },
	{ "flow_ipv6_exthdrs", .spec = { .family = 6, .saddr = "2001:db8::1",
					 .daddr = "2001:db8::2", .sport = 7, .dport = 9,
					 .ipv6_opts = 2, .ipv6_frag = 1 } },
	{ "mark_full_mask", .spec = UDP4_SPEC, .mark_mask = 0xffffffff, .mark = 0x5001,
	  .rule_mark = 0x5001 },
	{ "mark_under_mask", .spec = UDP6_SPEC, .mark_mask = 0x00ff0000, .mark = 0x12345678,
	  .rule_mark = 0x00340000 },
	{ "mark_non_ip", .spec = { .family = 0 }, .mark_mask = 0xff, .mark = 0x42,
	  .rule_mark = 0x42 },
};

/*
 * Each tagging source: tagged but not canceled passes and is counted; then
 * canceled by ID it is dropped with one exact record; cleared, it passes.
 */
static void test_tag_sources(void)
{
	size_t i;

	for (i = 0; i < sizeof(tag_cases) / sizeof(tag_cases[0]); i++) {
		const struct tag_case *c = &tag_cases[i];
		struct frame f = frame_of(&c->spec);
		struct ring_reader *r = NULL;
		__u8 kind = c->rule_mark ? TXC_TAG_MARK : TXC_TAG_FLOW;
		__u64 t0, t1;

		if (test_sub_begin("%s", c->name)) {
			if (!reset())
				goto next;
			if (c->rule_mark ? !add_mark(c->mark_mask, c->rule_mark, ID_A1, SRC_1)
					 : !add_flow(&c->spec, ID_A1, SRC_1))
				goto next;
			r = ring_open(SRC_1);
			if (!r)
				goto next;

			ASSERT_EQ(tc_verdict(&f, c->mark), TC_NEXT, "tagged, not canceled: passes");
			stats_are(SRC_1, 1, f.len, 0, 0, 0);

			ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel ID");
			t0 = mono_ns();
			ASSERT_EQ(tc_verdict(&f, c->mark), TC_DROP, "canceled: dropped");
			t1 = mono_ns();
			stats_are(SRC_1, 1, f.len, 1, f.len, 0);
			if (ASSERT_EQ(ring_drain(r), 1, "one record"))
				record_is(&r->rec[0], &c->spec, f.len, ID_A1, SRC_1, 1,
					  TXC_HOOK_TC_EGRESS, kind, TXC_SCOPE_ID, t0, t1);

			ASSERT_OK(txdp_clear(dp, TXC_SCOPE_ID, ID_A1), "clear");
			ASSERT_EQ(tc_verdict(&f, c->mark), TC_NEXT, "cleared: passes");
			stats_are(SRC_1, 2, 2 * f.len, 1, f.len, 0);
			ASSERT_EQ(ring_drain(r), 0, "no record after clear");
next:
			ring_close(r);
			test_sub_end();
		}
	}
}

/* Cancel by ID, prefix and source: the right frames drop, the others pass. */
static void test_cancel_scopes(void)
{
	struct pkt_spec s_a1 = udp4, s_a2 = udp4, s_b1 = udp4;
	static const struct {
		const char *name;
		int scope;
		__u32 value;
		int a1, a2, b1;		/* expected verdicts */
	} cases[] = {
		{ "id", TXC_SCOPE_ID, ID_A1, TC_DROP, TC_NEXT, TC_NEXT },
		{ "prefix", TXC_SCOPE_PREFIX, PREFIX_A, TC_DROP, TC_DROP, TC_NEXT },
		{ "source", TXC_SCOPE_SOURCE, SRC_2, TC_NEXT, TC_DROP, TC_DROP },
		{ "other_id", TXC_SCOPE_ID, TXC_ID_MAKE(PREFIX_A, 3), TC_NEXT, TC_NEXT, TC_NEXT },
		{ "other_prefix", TXC_SCOPE_PREFIX, 7, TC_NEXT, TC_NEXT, TC_NEXT },
		{ "other_source", TXC_SCOPE_SOURCE, 3, TC_NEXT, TC_NEXT, TC_NEXT },
	};
	size_t i;

	/* A1 -> source 1; A2 and B1 -> source 2. */
	s_a2.dport = 5002;
	s_b1.dport = 5003;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame a1 = frame_of(&s_a1), a2 = frame_of(&s_a2), b1 = frame_of(&s_b1);
		struct ring_reader *r1 = NULL, *r2 = NULL;
		int drops1, drops2;

		if (test_sub_begin("%s", cases[i].name)) {
			if (!reset() || !add_flow(&s_a1, ID_A1, SRC_1) ||
			    !add_flow(&s_a2, ID_A2, SRC_2) ||
			    !add_flow(&s_b1, ID_B1, SRC_2))
				goto next;
			r1 = ring_open(SRC_1);
			r2 = ring_open(SRC_2);
			if (!r1 || !r2)
				goto next;
			if (!ASSERT_OK(txdp_cancel(dp, cases[i].scope, cases[i].value, 0, 0),
				       "cancel"))
				goto next;
			ASSERT_EQ(tc_verdict(&a1, 0), cases[i].a1, "verdict for A1");
			ASSERT_EQ(tc_verdict(&a2, 0), cases[i].a2, "verdict for A2");
			ASSERT_EQ(tc_verdict(&b1, 0), cases[i].b1, "verdict for B1");
			drops1 = cases[i].a1 == TC_DROP;
			drops2 = (cases[i].a2 == TC_DROP) + (cases[i].b1 == TC_DROP);
			ASSERT_EQ(ring_drain(r1), drops1, "records of source 1");
			ASSERT_EQ(ring_drain(r2), drops2, "records of source 2");
			ASSERT_EQ(stats_of(SRC_1).aborted_frames, drops1, "aborts of source 1");
			ASSERT_EQ(stats_of(SRC_2).aborted_frames, drops2, "aborts of source 2");
			ASSERT_EQ(stats_of(SRC_1).passed_frames, 1 - drops1, "passes of source 1");
			ASSERT_EQ(stats_of(SRC_2).passed_frames, 2 - drops2, "passes of source 2");
			if (drops1)
				ASSERT_EQ(r1->rec[0].scope, cases[i].scope, "record scope");
			if (drops2)
				ASSERT_EQ(r2->rec[0].scope, cases[i].scope, "record scope");
			/* Idempotent: a second cancel changes nothing. */
			ASSERT_OK(txdp_cancel(dp, cases[i].scope, cases[i].value, 0, 0),
				  "cancel again");
			ASSERT_EQ(tc_verdict(&a1, 0), cases[i].a1,
				  "verdict for A1 after second cancel");
			ASSERT_OK(txdp_clear(dp, cases[i].scope, cases[i].value), "clear");
			ASSERT_EQ(tc_verdict(&a1, 0), TC_NEXT, "A1 after clear");
			ASSERT_EQ(tc_verdict(&a2, 0), TC_NEXT, "A2 after clear");
			ASSERT_EQ(tc_verdict(&b1, 0), TC_NEXT, "B1 after clear");
next:
			ring_close(r1);
			ring_close(r2);
			test_sub_end();
		}
	}
}

/* A cancel with an expiry drops until then and lets frames through after. */
static void test_expiry(void)
{
	struct frame f = frame_of(&udp4);

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1))
		return;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, mono_ns() + 200000000ull),
		  "cancel for 200 ms");
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "dropped before expiry");
	usleep(300000);
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "passes after expiry, without a clear");

	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_PREFIX, PREFIX_A, 0, mono_ns() - 1),
		  "expired cancel");
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "a cancel already expired never drops");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_SOURCE, SRC_1, 0, 0), "cancel without expiry");
	usleep(50000);
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "sticky cancel still drops");
	stats_are(SRC_1, 2, 2 * f.len, 2, 2 * f.len, 2);	/* no ring: both lost */
}

/* ID 0 and prefix 0 are refused, and never match even if forced into the maps. */
static void test_id_zero(void)
{
	struct txc_flow_key k = flow_key_of(&udp4);
	struct txc_tag bad = { .cancel_id = 0x00123456, .source = SRC_1 };
	struct txc_cancel on = { .flags = TXC_CANCEL_F_ACTIVE | TXC_CANCEL_F_ALL_IFACES };
	struct frame f = frame_of(&udp4);
	__u32 zero = 0, key = 0x00123456;

	if (!reset())
		return;
	bad.cancel_id = 0;
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_FLOW, &k, &bad), -EINVAL, "tag with ID 0 refused");
	bad.cancel_id = 0x00123456;
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_FLOW, &k, &bad), -EINVAL, "tag with prefix 0 refused");
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_ID, 0, 0, 0), -EINVAL, "cancel of ID 0 refused");
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_ID, 0x00123456, 0, 0), -EINVAL,
		  "cancel of an ID with prefix 0 refused");
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_PREFIX, 0, 0, 0), -EINVAL,
		  "cancel of prefix 0 refused");
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_PREFIX, 256, 0, 0), -EINVAL, "prefix 256 refused");
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_SOURCE, 0, 0, 0), -EINVAL, "source 0 refused");
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_SOURCE, TXC_MAX_SOURCES, 0, 0), -EINVAL,
		  "source out of range refused");
	ASSERT_EQ(txdp_cancel(dp, 9, 1, 0, 0), -EINVAL, "unknown scope refused");
	bad.cancel_id = ID_A1;
	bad.source = 0;
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_FLOW, &k, &bad), -EINVAL, "tag with source 0 refused");
	ASSERT_EQ(txdp_tag_add(dp, 9, &k, &bad), -EINVAL, "unknown tag kind refused");

	/* Bypass the datapath library: the program itself must not drop such frames. */
	bad.cancel_id = 0x00123456;
	bad.source = SRC_1;
	ASSERT_OK(bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_FLOW_RULES), &k, &bad, 0),
		  "force a prefix-0 rule");
	ASSERT_OK(bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_PREFIX_CANCELS), &zero, &on, 0),
		  "force a prefix-0 cancel");
	ASSERT_OK(bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_ID_CANCELS), &key, &on, 0),
		  "force an ID cancel");
	ASSERT_OK(bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_SOURCE_CANCELS),
				      &bad.source, &on, 0), "force a source cancel");
	{
		struct txc_config cfg = { .lookups = TXC_LOOKUP_ALL };

		ASSERT_OK(txdp_config_set(dp, &cfg), "turn on every lookup");
	}
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "prefix-0 ID never drops");
	bad.cancel_id = 0;
	ASSERT_OK(bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_FLOW_RULES), &k, &bad, 0),
		  "force an ID-0 rule");
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "ID 0 never drops");
	stats_are(SRC_1, 0, 0, 0, 0, 0);
}

/* Mark wins over flow; a frame whose mark carries a foreign ID is never retagged. */
static void test_precedence(void)
{
	struct frame f = frame_of(&udp4);
	struct ring_reader *r = NULL;

	if (!reset() || !add_flow(&udp4, ID_B1, SRC_2) ||
	    !add_mark(0xff000000, 0x05000000, ID_A1, SRC_1))
		return;
	r = ring_open(SRC_1);
	if (!r)
		return;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_B1, 0, 0), "cancel the flow's ID");
	ASSERT_EQ(tc_verdict(&f, 0x05000abc), TC_NEXT,
		  "mark rule wins: flow cancel does not apply");
	ASSERT_EQ(tc_verdict(&f, 0x00000abc), TC_DROP, "no ID in the mark: the flow tags it");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel the mark's ID");
	ASSERT_EQ(tc_verdict(&f, 0x05000abc), TC_DROP, "mark ID canceled: dropped");
	if (ASSERT_EQ(ring_drain(r), 1, "one record for source 1"))
		ASSERT_EQ(r->rec[0].tag_kind, TXC_TAG_MARK, "tagged by mark");

	/* 0x09 in the ID field, no rule for it: an upper layer's ID, kept as is. */
	ASSERT_EQ(tc_verdict(&f, 0x09000000), TC_NEXT, "foreign ID: not retagged by flow");
	stats_are(SRC_1, 1, f.len, 1, f.len, 0);
	stats_are(SRC_2, 0, 0, 1, f.len, 1);

	/* With the mark field turned off the same frame is the flow's again. */
	ASSERT_OK(txdp_set_mark_mask(dp, 0), "mark mask 0");
	ASSERT_EQ(tc_verdict(&f, 0x09000000), TC_DROP, "mark ignored: flow tags and drops");
	ring_close(r);
}

static const struct pkt_spec vlan4 = {
	.family = 4, .saddr = "198.18.0.1", .daddr = "198.18.1.3", .sport = 40000,
	.dport = 5001, .nvlan = 1, .vlan_tci = { 100 }, .frame_len = 64,
};

/*
 * The kernel's test-run refuses untagged IPv4/IPv6 frames shorter than their
 * network header before the program runs; such frames are tried on the XDP
 * program, which shares the parser, and on TC behind a VLAN tag.
 */
static bool tc_expressible(const struct frame *f)
{
	__u16 proto = f->data[12] << 8 | f->data[13];

	return !((proto == 0x0800 && f->len < 14 + 20) || (proto == 0x86dd && f->len < 14 + 40));
}

/* Cut @spec's frame at every length; returns the number of frames dropped. */
static int check_truncations(const struct pkt_spec *spec, size_t ports_end)
{
	struct frame f, full = frame_of(spec);
	int drops = 0;
	size_t cut;

	for (cut = 14; cut < full.len; cut++) {
		bool flows = cut >= ports_end;

		f = full;
		f.len = cut;
		if (tc_expressible(&f)) {
			if (!ASSERT_EQ(tc_verdict(&f, 0), flows ? TC_DROP : TC_NEXT,
				       "truncated frame, TC verdict"))
				break;
			drops += flows;
		}
		if (!ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &f), flows ? XDP_DROP_RC : XDP_PASS_RC,
			       "truncated frame, XDP verdict"))
			break;
		drops += flows;
	}
	return drops;
}

/* What the malformed-frame subtests share: the frames they drop, counted. */
struct malformed_fixture {
	int drops;		/* frames of source 1 the subtests saw dropped */
};

/*
 * Cut before the ports: no flow (not even the port-less rule), must pass.
 * With the ports readable it is the flow's frame.
 */
static void malformed_truncated_ipv4(struct malformed_fixture *fx)
{
	fx->drops += check_truncations(&udp4, 14 + 20 + 4);
}

static void malformed_truncated_ipv6(struct malformed_fixture *fx)
{
	fx->drops += check_truncations(&udp6, 14 + 40 + 4);
}

static void malformed_truncated_vlan_ipv4(struct malformed_fixture *fx)
{
	fx->drops += check_truncations(&vlan4, 14 + 4 + 20 + 4);
}

static void malformed_bad_ipv4_ihl(struct malformed_fixture *fx)
{
	struct frame f = frame_of(&udp4);

	(void)fx;
	f.data[14] = 0x43;	/* IHL 3: shorter than the header itself */
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "IHL < 5 passes");
	f.data[14] = 0x4f;	/* IHL 15: options run past the frame */
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "IHL past the end passes");
	f.data[14] = 0x65;	/* version 6 in an IPv4 ethertype */
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "version mismatch passes");
}

static void malformed_fragments(struct malformed_fixture *fx)
{
	struct pkt_spec frag4 = udp4, frag6 = udp6;
	struct frame f;

	frag4.ipv4_frag_off = 185;	/* a later fragment: no ports */
	f = frame_of(&frag4);
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "later IPv4 fragment matches the port-less rule");
	fx->drops++;
	frag6.ipv6_frag = 2;
	f = frame_of(&frag6);
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "later IPv6 fragment: no port-less rule, passes");
}

static void malformed_garbage(struct malformed_fixture *fx)
{
	unsigned int seed = 12345;
	struct frame f;
	int i;

	(void)fx;
	for (i = 0; i < 2000; i++) {
		size_t j;

		f.len = 14 + rand_r(&seed) % 120;
		for (j = 0; j < f.len; j++)
			f.data[j] = rand_r(&seed);
		/* Half of them claim to be IP so the parser goes deeper. */
		if (i & 1) {
			f.data[12] = i & 2 ? 0x08 : 0x86;
			f.data[13] = i & 2 ? 0x00 : 0xdd;
		}
		if ((tc_expressible(&f) &&
		     !ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "garbage frame passes")) ||
		    !ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &f), XDP_PASS_RC,
			       "garbage frame passes XDP"))
			break;
	}
}

static void malformed_truncated_canceled_by_mark(struct malformed_fixture *fx)
{
	struct ring_reader *r;
	struct frame f;

	(void)fx;
	if (!add_mark(0xffffffff, 0x99, ID_B1, SRC_2))
		return;
	r = ring_open(SRC_2);
	if (!r)
		return;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_B1, 0, 0), "cancel the mark's ID");
	f = frame_of(&vlan4);
	f.len = 24;	/* Ethernet, a VLAN tag and 6 bytes of IPv4 */
	ASSERT_EQ(tc_verdict(&f, 0x99), TC_DROP, "canceled by mark: dropped even if truncated");
	if (ASSERT_EQ(ring_drain(r), 1, "one record")) {
		ASSERT_EQ(r->rec[0].frame.eth_proto, htons(0x0800), "summary ethertype");
		ASSERT_EQ(r->rec[0].frame.vlan_tci, 100, "summary VLAN");
		ASSERT_EQ(r->rec[0].frame.family, 0, "no IP header could be read");
		ASSERT_EQ(r->rec[0].frame.flags, TXC_FRAME_F_TRUNCATED, "summary says truncated");
		ASSERT_EQ(r->rec[0].len, 24, "record len");
	}
	ring_close(r);
}

static const TEST_SUB_OF(struct malformed_fixture) malformed_subs[] = {
	{ "truncated_ipv4", malformed_truncated_ipv4 },
	{ "truncated_ipv6", malformed_truncated_ipv6 },
	{ "truncated_vlan_ipv4", malformed_truncated_vlan_ipv4 },
	{ "bad_ipv4_ihl", malformed_bad_ipv4_ihl },
	{ "fragments", malformed_fragments },
	{ "garbage", malformed_garbage },
	{ "truncated_canceled_by_mark", malformed_truncated_canceled_by_mark },
};

/* Truncated and malformed frames: never dropped unless canceled by mark. */
static void test_malformed(void)
{
	struct pkt_spec portless = udp4;
	struct malformed_fixture fx = {};

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) || !add_flow(&udp6, ID_A1, SRC_1) ||
	    !add_flow(&vlan4, ID_A1, SRC_1))
		return;
	/* The rule a frame with unreadable ports could fall into. */
	portless.sport = portless.dport = 0;
	if (!add_flow(&portless, ID_A2, SRC_1))
		return;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_PREFIX, PREFIX_A, 0, 0), "cancel everything");
	test_subs_run(malformed_subs, &fx);
	ASSERT_EQ(stats_of(SRC_1).passed_frames, 0, "nothing of source 1 passed");
	ASSERT_EQ(stats_of(SRC_1).aborted_frames, fx.drops, "aborts of source 1");
	ASSERT_EQ(stats_of(SRC_1).lost_reports, fx.drops, "no ring: every report lost");
}

/* GSO metadata reaches the record; non-GSO frames count one segment. */
static void test_gso(void)
{
	struct frame f = frame_of(&udp4);
	struct tc_in gso = { .gso_segs = 10, .gso_size = 1400 };
	struct ring_reader *r;
	int rc;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1))
		return;
	r = ring_open(SRC_1);
	if (!r)
		return;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel");
	if (ASSERT_OK(run_tc(&f, &gso, &rc), "run GSO frame"))
		ASSERT_EQ(rc, TC_DROP, "GSO frame dropped");
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "plain frame dropped");
	if (ASSERT_EQ(ring_drain(r), 2, "two records")) {
		ASSERT_EQ(r->rec[0].gso_segs, 10, "GSO segments");
		ASSERT_EQ(r->rec[0].gso_size, 1400, "GSO size");
		ASSERT_EQ(r->rec[1].gso_segs, 1, "non-GSO: one segment");
		ASSERT_EQ(r->rec[1].gso_size, 0, "non-GSO: size 0");
		ASSERT_EQ(r->rec[0].seq, 1, "first seq");
		ASSERT_EQ(r->rec[1].seq, 2, "second seq");
	}
	ring_close(r);
}

/* A per-interface cancel applies on its interface only. */
static void test_iface_scope(void)
{
	struct txc_iface lo = { .slot = 5, .flags = TXC_IFACE_F_TC_TCX };
	struct txc_iface other = { .slot = 6, .flags = TXC_IFACE_F_TC_TCX };
	__u32 lo_idx = LO_IFINDEX, other_idx = 0x7ffff;
	struct frame f = frame_of(&udp4);
	int fd = txdp_map_fd(dp, TXDP_MAP_IFACES);

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1))
		return;
	/* Pretend txcancel is attached to lo and to another interface. */
	if (!ASSERT_OK(bpf_map_update_elem(fd, &lo_idx, &lo, 0), "iface lo") ||
	    !ASSERT_OK(bpf_map_update_elem(fd, &other_idx, &other, 0), "iface other"))
		goto out;
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 12345, 0), -ENOENT,
		  "cancel on an interface txcancel is not on is refused");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, other_idx, 0), "cancel on the other");
	ASSERT_EQ(tc_verdict(&f, 0), TC_NEXT, "not canceled on lo");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, lo_idx, 0), "cancel on lo as well");
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "canceled on lo");
	ASSERT_OK(txdp_clear(dp, TXC_SCOPE_ID, ID_A1), "clear");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_SOURCE, SRC_1, lo_idx, 0), "source cancel on lo");
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "source canceled on lo");
out:
	bpf_map_delete_elem(fd, &lo_idx);
	bpf_map_delete_elem(fd, &other_idx);
}

/*
 * Fill one source's ring while aborting: every abort is a record or a lost
 * report, exactly; another source's ring is unaffected.
 */
static void test_ring_full(void)
{
	const int aborts = 6000;	/* about 2.4 rings' worth of 104-byte entries */
	struct pkt_spec other = udp4;
	struct frame f = frame_of(&udp4), g;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.data, .data_size_in = f.len,
		    .repeat = aborts);
	struct ring_reader *r1 = NULL, *r2 = NULL;
	struct txc_source_stats s;
	size_t delivered, i;
	bool seq_ok = true;

	other.dport = 7777;
	g = frame_of(&other);
	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) || !add_flow(&other, ID_B1, SRC_2))
		return;
	r1 = ring_open(SRC_1);
	r2 = ring_open(SRC_2);
	if (!r1 || !r2)
		goto out;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel source 1's ID");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_B1, 0, 0), "cancel source 2's ID");

	/* repeat runs the program on the same frame @aborts times. */
	if (!ASSERT_OK(bpf_prog_test_run_opts(txdp_prog_fd(dp, TXDP_PROG_TC_EGRESS), &opts),
		       "flood source 1"))
		goto out;
	ASSERT_EQ(opts.retval, TC_DROP, "verdict");
	ASSERT_EQ(tc_verdict(&g, 0), TC_DROP, "source 2 frame dropped");

	delivered = ring_drain(r1);
	s = stats_of(SRC_1);
	ASSERT_EQ(s.aborted_frames, aborts, "aborted");
	ASSERT_TRUE(s.lost_reports > 0, "the ring overflowed");
	ASSERT_EQ(s.aborted_frames, delivered + s.lost_reports, "aborted = delivered + lost");
	for (i = 0; i < delivered && i < MAX_RECORDS; i++)
		seq_ok &= r1->rec[i].seq == i + 1;
	ASSERT_TRUE(seq_ok, "delivered records carry seq 1..delivered");

	ASSERT_EQ(ring_drain(r2), 1, "source 2 still got its record");
	stats_are(SRC_2, 0, 0, 1, g.len, 0);

	/* Drained, the ring takes records again. */
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "another abort");
	ASSERT_EQ(ring_drain(r1), 1, "recorded after draining");
	ASSERT_EQ(r1->rec[delivered].seq, aborts + 1, "seq continues across losses");
	s = stats_of(SRC_1);
	ASSERT_EQ(s.aborted_frames, delivered + 1 + s.lost_reports,
		  "aborted = delivered + lost after recovery");
out:
	ring_close(r1);
	ring_close(r2);
}

/* Whether the ring's fd reports data within @ms milliseconds. */
static bool ring_wakes(struct ring_reader *r, int ms)
{
	return epoll_wait(ring_buffer__epoll_fd(r->rb), &(struct epoll_event){}, 1, ms) == 1;
}

/*
 * TXC_RING_F_NO_WAKEUP: records are written all the same, but the consumer
 * is not woken for them; cleared, the kernel wakes it again for the first
 * record after it has read everything.
 */
static void test_ring_wakeup(void)
{
	struct frame f = frame_of(&udp4);
	struct ring_reader *r = NULL;
	struct txc_config cfg;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1))
		return;
	r = ring_open(SRC_1);
	if (!r || !ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel"))
		goto out;

	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "abort with wake-ups on");
	ASSERT_TRUE(ring_wakes(r, 1000), "woken for the record");
	ASSERT_EQ(ring_drain(r), 1, "one record");

	/* Level-triggered: a turn that finds the ring empty takes it off epoll's ready list. */
	ASSERT_TRUE(!ring_wakes(r, 0), "nothing to read after draining");
	ASSERT_OK(txdp_set_ring_wakeup(dp, false), "wake-ups off");
	ASSERT_OK(txdp_config_get(dp, &cfg), "read config");
	ASSERT_EQ(cfg.ring_flags, TXC_RING_F_NO_WAKEUP, "flag set in the config");
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "abort with wake-ups off");
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "second abort with wake-ups off");
	ASSERT_TRUE(!ring_wakes(r, 50), "not woken");
	ASSERT_EQ(ring_drain(r), 2, "both records written all the same");
	ASSERT_EQ(r->rec[2].seq, 3, "sequence continues");

	ASSERT_TRUE(!ring_wakes(r, 0), "nothing to read after draining again");
	ASSERT_OK(txdp_set_ring_wakeup(dp, true), "wake-ups on");
	ASSERT_OK(txdp_config_get(dp, &cfg), "read config");
	ASSERT_EQ(cfg.ring_flags, 0, "flag cleared");
	ASSERT_EQ(tc_verdict(&f, 0), TC_DROP, "abort with wake-ups back on");
	ASSERT_TRUE(ring_wakes(r, 1000), "woken again");
	ASSERT_EQ(ring_drain(r), 1, "one more record");
	stats_are(SRC_1, 0, 0, 4, 4 * f.len, 0);

	cfg.ring_flags = 0x80;
	ASSERT_EQ(txdp_config_set(dp, &cfg), -EINVAL, "unknown ring flag refused");
	ASSERT_LOGGED("ring flags 0x80", "ring flags named");
out:
	txdp_set_ring_wakeup(dp, true);
	ring_close(r);
}

/* The XDP program: flow tags, the same cancel state, its own hook code. */
static void test_xdp(void)
{
	struct frame f4 = frame_of(&udp4), f6 = frame_of(&udp6);
	struct ring_reader *r;
	__u64 t0, t1;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) || !add_flow(&udp6, ID_A2, SRC_1))
		return;
	r = ring_open(SRC_1);
	if (!r)
		return;
	if (test_sub_begin("flow")) {
		ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &f4), XDP_PASS_RC, "tagged, not canceled");
		ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel the IPv4 flow");
		t0 = mono_ns();
		ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &f4), XDP_DROP_RC, "IPv4 canceled: XDP_DROP");
		t1 = mono_ns();
		ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &f6), XDP_PASS_RC, "IPv6 flow still passes");
		if (ASSERT_EQ(ring_drain(r), 1, "one record"))
			record_is(&r->rec[0], &udp4, f4.len, ID_A1, SRC_1, 1, TXC_HOOK_XDP,
				  TXC_TAG_FLOW, TXC_SCOPE_ID, t0, t1);
		stats_are(SRC_1, 2, f4.len + f6.len, 1, f4.len, 0);
		test_sub_end();
	}

	ring_close(r);
}

/* Loader checks on bad input: nothing reaches the maps. */
static void test_bad_input(void)
{
	struct txc_flow_key k = flow_key_of(&udp4);
	struct txc_tag tag = { .cancel_id = ID_A1, .source = SRC_1 };
	struct txc_config cfg = { .reserved = 1 };
	char want[TXCC_PROBLEM_MAX];
	__u32 zero_mark = 0;

	if (!reset())
		return;
	k.family = 5;
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_FLOW, &k, &tag), -EINVAL, "flow family 5 refused");
	ASSERT_LOGGED("family 5", "flow family");
	k.family = 4;
	k.reserved = 1;
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_FLOW, &k, &tag), -EINVAL, "flow reserved refused");
	ASSERT_LOGGED("reserved", "flow reserved");
	k.reserved = 0;
	k.saddr[4] = 1;
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_FLOW, &k, &tag), -EINVAL,
		  "IPv4 flow with bytes past the address refused");
	ASSERT_LOGGED("address bytes 4..15", "IPv4 flow key bytes");
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_MARK, &zero_mark, &tag), -EINVAL, "mark 0 refused");
	ASSERT_LOGGED("mark 0", "mark 0");
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_CGROUP, &(__u64){ 0 }, &tag), -EINVAL,
		  "cgroup 0 refused");
	ASSERT_LOGGED("cgroup id 0", "cgroup 0");
	ASSERT_EQ(txdp_config_set(dp, &cfg), -EINVAL, "config reserved refused");
	ASSERT_LOGGED("reserved", "config reserved");
	cfg.reserved = 0;
	cfg.lookups = 0x100;
	ASSERT_EQ(txdp_config_set(dp, &cfg), -EINVAL, "unknown lookup bit refused");
	ASSERT_LOGGED("0x100", "lookup bits");
	ASSERT_EQ(txdp_ring_open(dp, 0), -EINVAL, "ring of source 0 refused");
	ASSERT_LOGGED("source 0: must be 1..4095", "ring of source 0");
	/* The library's refusals read as the daemon's and the client's: the common sentences. */
	ASSERT_TRUE(!strcmp(txdp_strerror(dp, -EINVAL), txcc_source_problem(0, want)),
		    "source 0: the caller reads the common sentence");
	ASSERT_EQ(txdp_cancel(dp, 9, 1, 0, 0), -EINVAL, "cancel scope 9 refused");
	ASSERT_TRUE(!strcmp(txdp_strerror(dp, -EINVAL), txcc_scope_problem(9, want)),
		    "scope 9: the caller reads the common sentence");
	ASSERT_EQ(txdp_cancel(dp, TXC_SCOPE_PREFIX, 256, 0, 0), -EINVAL, "prefix 256 refused");
	ASSERT_TRUE(!strcmp(txdp_strerror(dp, -EINVAL), txcc_prefix_problem(256, want)),
		    "prefix 256: the caller reads the common sentence");
	ASSERT_EQ(txdp_tag_add(dp, 9, &k, &tag), -EINVAL, "tag kind 9 refused");
	ASSERT_LOGGED("tag kind 9: must be mark (1), socket (2), cgroup (3) or flow (4)",
		      "tag kind 9 and the kinds of the table");
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_SOCKET, &(__u64){ 1 }, &tag), -EINVAL,
		  "socket tag by cookie refused");
	ASSERT_LOGGED("socket tags are stored in the socket", "socket tag by cookie");
	tag.cancel_id = 0x00abcdef;
	ASSERT_EQ(txdp_tag_add(dp, TXC_TAG_MARK, &(__u32){ 1 }, &tag), -EINVAL,
		  "prefix 0 refused");
	ASSERT_LOGGED("0x00abcdef", "prefix-0 ID");
	ASSERT_EQ(txdp_source_stats(dp, TXC_MAX_SOURCES, &(struct txc_source_stats){}),
		  -ENOENT, "stats of a source out of range");
	{
		/* A batch with one bad ID is refused whole, before any reaches the map. */
		__u32 ids[3] = { ID_A1, 0x00abcdef, ID_B1 }, done = 99;

		ASSERT_EQ(txdp_cancel_ids(dp, ids, NULL, 3, &done), -EINVAL,
			  "batch of cancels with a prefix-0 ID refused");
		ASSERT_EQ(done, 0, "none of it applied");
		ASSERT_LOGGED("0x00abcdef", "the bad ID named");
		done = 99;
		ASSERT_EQ(txdp_clear_ids(dp, ids, 3, &done), -EINVAL,
			  "batch of clears with a prefix-0 ID refused");
		ASSERT_EQ(done, 0, "none of it applied");
	}
	ASSERT_OK(txdp_config_get(dp, &cfg), "config read");
	ASSERT_EQ(cfg.lookups, 0, "nothing turned on by refused rules or cancels");
	ASSERT_TRUE(bpf_map_lookup_elem(txdp_map_fd(dp, TXDP_MAP_ID_CANCELS), &(__u32){ ID_A1 },
					&(struct txc_cancel){}) != 0, "no cancel stored");
}

/* --- per-ID counters ------------------------------------------------------ */

static __u32 config_lookups(void)
{
	struct txc_config cfg = {};

	ASSERT_OK(txdp_config_get(dp, &cfg), "read config");
	return cfg.lookups;
}

static bool id_stats_are(__u32 id, __u64 passed, __u64 passed_bytes, __u64 aborted,
			 __u64 aborted_bytes)
{
	struct txc_id_stats s;
	bool ok;

	if (!ASSERT_OK(txdp_id_counters(dp, id, &s), "read ID counters"))
		return false;
	/* Every field, so that a failure reports all that differ. */
	ok = ASSERT_EQ(s.passed_frames, passed, "ID passed_frames");
	ok &= ASSERT_EQ(s.passed_bytes, passed_bytes, "ID passed_bytes");
	ok &= ASSERT_EQ(s.aborted_frames, aborted, "ID aborted_frames");
	ok &= ASSERT_EQ(s.aborted_bytes, aborted_bytes, "ID aborted_bytes");
	return ok;
}

/* Put an element in txc_id_stats behind the library's back (it refuses ID 0). */
static bool id_stats_force(__u32 id)
{
	int ncpus = libbpf_num_possible_cpus();
	struct txc_id_stats *zero = calloc(ncpus > 0 ? ncpus : 1, sizeof(*zero));
	bool ok;

	ok = ASSERT_TRUE(zero != NULL, "alloc") &&
	     ASSERT_OK(bpf_map_update_elem(txdp_map_fd(dp, TXDP_MAP_ID_STATS), &id, zero, 0),
		       "force an ID counter element");
	free(zero);
	return ok;
}

/* The sum over CPUs of an element, read directly from the map. */
static struct txc_id_stats id_stats_raw(__u32 id)
{
	int i, ncpus = libbpf_num_possible_cpus();
	struct txc_id_stats sum = {}, *percpu = calloc(ncpus > 0 ? ncpus : 1, sizeof(*percpu));

	if (!ASSERT_TRUE(percpu != NULL, "alloc"))
		return sum;
	if (ASSERT_OK(bpf_map_lookup_elem(txdp_map_fd(dp, TXDP_MAP_ID_STATS), &id, percpu),
		      "read an ID counter element"))
		for (i = 0; i < ncpus; i++) {
			sum.passed_frames += percpu[i].passed_frames;
			sum.passed_bytes += percpu[i].passed_bytes;
			sum.aborted_frames += percpu[i].aborted_frames;
			sum.aborted_bytes += percpu[i].aborted_bytes;
		}
	free(percpu);
	return sum;
}

static __u32 map_id_of(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* The frames the per-ID counter subtests send. */
struct id_frames {
	struct pkt_spec other;	/* udp4 to another port: a flow of its own */
	struct frame f;		/* udp4 */
	struct frame g;		/* the same flow, 200 bytes long */
	struct frame o;		/* other */
};

/* udp4's flow tagged ID A1 from source 1, with A1 counted. */
static bool a1_counted(void)
{
	return reset() && add_flow(&udp4, ID_A1, SRC_1) &&
	       ASSERT_OK(txdp_id_count_start(dp, ID_A1), "count ID A1");
}

static void id_passed_aborted(const struct id_frames *fr)
{
	const struct frame *f = &fr->f, *g = &fr->g;

	if (!a1_counted())
		return;
	ASSERT_EQ(tc_verdict(f, 0), TC_NEXT, "64-byte frame passes");
	ASSERT_EQ(tc_verdict(g, 0), TC_NEXT, "200-byte frame passes");
	id_stats_are(ID_A1, 2, f->len + g->len, 0, 0);
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel A1");
	ASSERT_EQ(tc_verdict(g, 0), TC_DROP, "200-byte frame dropped");
	ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, f), XDP_DROP_RC, "64-byte frame dropped by XDP");
	id_stats_are(ID_A1, 2, f->len + g->len, 2, f->len + g->len);
	stats_are(SRC_1, 2, f->len + g->len, 2, f->len + g->len, 2);
}

static void id_uncounted(const struct id_frames *fr)
{
	const struct frame *o = &fr->o;
	struct txc_id_stats st;

	if (!a1_counted() || !add_flow(&fr->other, ID_A2, SRC_1))
		return;
	ASSERT_EQ(tc_verdict(o, 0), TC_NEXT, "A2 frame passes");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A2, 0, 0), "cancel A2");
	ASSERT_EQ(tc_verdict(o, 0), TC_DROP, "A2 frame dropped");
	ASSERT_EQ(txdp_id_counters(dp, ID_A2, &st), -ENOENT, "A2 is not counted");
	id_stats_are(ID_A1, 0, 0, 0, 0);
	stats_are(SRC_1, 1, o->len, 1, o->len, 1);	/* the source counts it all the same */
}

static void id_start_keeps_counts(const struct id_frames *fr)
{
	if (!a1_counted())
		return;
	ASSERT_EQ(tc_verdict(&fr->f, 0), TC_NEXT, "frame passes");
	ASSERT_OK(txdp_id_count_start(dp, ID_A1), "count ID A1 again");
	id_stats_are(ID_A1, 1, fr->f.len, 0, 0);
}

static void id_stop(const struct id_frames *fr)
{
	const struct frame *f = &fr->f;
	struct txc_id_stats st;

	if (!a1_counted())
		return;
	ASSERT_EQ(tc_verdict(f, 0), TC_NEXT, "counted frame");
	ASSERT_OK(txdp_id_count_stop(dp, ID_A1), "stop");
	ASSERT_EQ(txdp_id_counters(dp, ID_A1, &st), -ENOENT, "stopped: no counters");
	ASSERT_EQ(tc_verdict(f, 0), TC_NEXT, "frame while not counted");
	ASSERT_EQ(txdp_id_count_stop(dp, ID_A1), -ENOENT, "stop of an ID not counted");
	ASSERT_OK(txdp_id_count_start(dp, ID_A1), "count again");
	id_stats_are(ID_A1, 0, 0, 0, 0);	/* a new start begins at zero */
	stats_are(SRC_1, 2, 2 * f->len, 0, 0, 0);
}

static void id_lookup_bit(const struct id_frames *fr)
{
	const struct frame *f = &fr->f;
	struct txc_id_stats st;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) || !add_flow(&fr->other, ID_A2, SRC_1))
		return;
	ASSERT_EQ(txdp_id_count_start(dp, 0), -EINVAL, "ID 0 refused");
	ASSERT_EQ(txdp_id_count_start(dp, 0x00123456), -EINVAL, "prefix 0 refused");
	ASSERT_LOGGED("0x00123456", "prefix-0 ID");
	ASSERT_EQ(config_lookups() & TXC_LOOKUP_ID_STATS, 0, "refused starts set no bit");
	/* With the bit clear the table is not looked up, even if it has the ID. */
	if (!id_stats_force(ID_A1))
		return;
	ASSERT_EQ(tc_verdict(f, 0), TC_NEXT, "frame passes");
	st = id_stats_raw(ID_A1);
	ASSERT_EQ(st.passed_frames, 0, "bit clear: not counted");
	ASSERT_OK(txdp_id_count_start(dp, ID_A1), "count A1");
	ASSERT_OK(txdp_id_count_start(dp, ID_A2), "count A2");
	ASSERT_EQ(config_lookups() & TXC_LOOKUP_ID_STATS, TXC_LOOKUP_ID_STATS, "bit set");
	ASSERT_EQ(tc_verdict(f, 0), TC_NEXT, "frame passes");
	id_stats_are(ID_A1, 1, f->len, 0, 0);
	ASSERT_OK(txdp_id_count_stop(dp, ID_A1), "stop A1");
	ASSERT_EQ(config_lookups() & TXC_LOOKUP_ID_STATS, TXC_LOOKUP_ID_STATS,
		  "bit stays while A2 is counted");
	ASSERT_OK(txdp_id_count_stop(dp, ID_A2), "stop A2");
	ASSERT_EQ(config_lookups(), TXC_LOOKUP_FLOW, "table empty: bit clear, the others kept");
}

/* Untagged frames never get to the per-ID lookup, not even for ID 0. */
static void id_untagged_not_counted(const struct id_frames *fr)
{
	struct pkt_spec arp = { .family = 0 };
	struct frame u6 = frame_of(&udp6), a = frame_of(&arp);
	struct txc_id_stats st;

	if (!a1_counted() || !add_mark(0xff000000, 0x05000000, ID_A1, SRC_1) ||
	    !id_stats_force(0) || !id_stats_force(0x09000000))
		return;
	ASSERT_EQ(tc_verdict(&fr->o, 0), TC_NEXT, "IPv4 flow without a rule");
	ASSERT_EQ(tc_verdict(&u6, 0), TC_NEXT, "IPv6 flow without a rule");
	ASSERT_EQ(tc_verdict(&a, 0), TC_NEXT, "non-IP frame");
	ASSERT_EQ(tc_verdict(&fr->f, 0x09000000), TC_NEXT, "foreign ID in the mark");
	ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &fr->o), XDP_PASS_RC, "XDP, no rule");
	st = id_stats_raw(0);
	ASSERT_EQ(st.passed_frames + st.aborted_frames, 0, "nothing counted under ID 0");
	st = id_stats_raw(0x09000000);
	ASSERT_EQ(st.passed_frames + st.aborted_frames, 0, "nothing counted under the mark");
	id_stats_are(ID_A1, 0, 0, 0, 0);
}

static void id_table_full(const struct id_frames *fr)
{
	__u32 i, n;
	int err;

	(void)fr;
	if (!reset())
		return;
	for (i = 0, n = 0, err = 0; i < TXC_ID_STATS_MAX; i++) {
		int e = txdp_id_count_start(dp, TXC_ID_MAKE(PREFIX_A, i));

		n += !e;
		err = err ? err : e;
	}
	ASSERT_OK(err, "count every ID");
	ASSERT_EQ(n, TXC_ID_STATS_MAX, "IDs counted");
	ASSERT_EQ(txdp_id_count_start(dp, ID_B1), -ENOSPC, "one more: table full");
	ASSERT_LOGGED("full", "table full");
	ASSERT_OK(txdp_id_count_start(dp, ID_A1), "an ID already counted, table full");
	/* Stop them one by one: emptying a big hash through reset is slow. */
	for (i = 0, n = 0; i < TXC_ID_STATS_MAX; i++)
		n += !txdp_id_count_stop(dp, TXC_ID_MAKE(PREFIX_A, i));
	ASSERT_EQ(n, TXC_ID_STATS_MAX, "IDs stopped");
	ASSERT_EQ(config_lookups() & TXC_LOOKUP_ID_STATS, 0, "all stopped: bit clear");
}

static void id_reset(const struct id_frames *fr)
{
	struct txc_id_stats st;

	if (!a1_counted())
		return;
	ASSERT_EQ(tc_verdict(&fr->f, 0), TC_NEXT, "counted frame");
	if (!reset())
		return;
	ASSERT_EQ(txdp_id_counters(dp, ID_A1, &st), -ENOENT, "reset forgets counted IDs");
	ASSERT_EQ(config_lookups(), 0, "reset clears the bit");
}

/* A second instance (a restarted daemon) reuses the pinned table. */
static void id_pinned_reuse(const struct id_frames *fr)
{
	struct txdp_opts opts = { .pin_dir = pin_dir };
	struct txc_id_stats st;
	struct txdp *dp2;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) ||
	    !ASSERT_OK(txdp_open(&dp2, &opts), "open a second instance"))
		return;
	ASSERT_EQ(map_id_of(txdp_map_fd(dp2, TXDP_MAP_ID_STATS)),
		  map_id_of(txdp_map_fd(dp, TXDP_MAP_ID_STATS)), "the same txc_id_stats map");
	ASSERT_OK(txdp_id_count_start(dp2, ID_A1), "count through the second instance");
	ASSERT_EQ(tc_verdict(&fr->f, 0), TC_NEXT, "frame through the first one's program");
	if (ASSERT_OK(txdp_id_counters(dp2, ID_A1, &st), "counters through the second"))
		ASSERT_EQ(st.passed_frames, 1, "counted");
	txdp_close(dp2);
}

static const TEST_SUB_OF(const struct id_frames) id_counter_subs[] = {
	{ "passed_aborted", id_passed_aborted },
	{ "uncounted_id", id_uncounted },
	{ "start_keeps_counts", id_start_keeps_counts },
	{ "stop", id_stop },
	{ "lookup_bit", id_lookup_bit },
	{ "untagged_not_counted", id_untagged_not_counted },
	{ "table_full", id_table_full },
	{ "reset", id_reset },
	{ "pinned_reuse", id_pinned_reuse },
};

/*
 * Per-ID counters: exact frames and bytes, passed and aborted, at every hook,
 * only for the IDs asked for; start keeps counts, stop forgets them; the
 * lookup bit follows the table; untagged frames never reach the lookup.
 */
static void test_id_counters(void)
{
	struct pkt_spec big = udp4;
	struct id_frames fr = { .other = udp4 };

	big.frame_len = 200;	/* the same flow, another length */
	fr.other.dport = 5002;
	fr.f = frame_of(&udp4);
	fr.g = frame_of(&big);
	fr.o = frame_of(&fr.other);
	test_subs_run(id_counter_subs, &fr);
}

/* --- explain -------------------------------------------------------------- */

static bool explained_as(const struct txc_explain_result *r, __u8 verdict, __u32 id,
			 __u32 source, __u8 kind, __u8 scope)
{
	bool ok;

	/* Every field, so that a failure reports all that differ. */
	ok = ASSERT_EQ(r->verdict, verdict, "explain verdict");
	ok &= ASSERT_EQ(r->cancel_id, id, "explain cancel_id");
	ok &= ASSERT_EQ(r->source, source, "explain source");
	ok &= ASSERT_EQ(r->tag_kind, kind, "explain tag_kind");
	ok &= ASSERT_EQ(r->scope, scope, "explain scope");
	return ok;
}

static int explain(const struct frame *f, __u32 mark, __u32 ifindex,
		   struct txc_explain_result *r)
{
	return txdp_explain(dp, f->data, f->len, mark, ifindex, r);
}

/* Everything an abort or a pass changes, to show that explain changes none. */
struct side_state {
	struct txc_source_stats src[2];
	__u64 seq[2];
	struct txc_id_stats id;
};

static struct side_state side_state_now(__u32 counted_id)
{
	struct side_state st = {};
	__u32 i;

	for (i = 0; i < 2; i++) {
		st.src[i] = stats_of(SRC_1 + i);
		ASSERT_OK(txdp_source_seq(dp, SRC_1 + i, &st.seq[i]), "read seq");
	}
	ASSERT_OK(txdp_id_counters(dp, counted_id, &st.id), "read ID counters");
	return st;
}

/* The cgroup v2 id of this process, or 0 if cgroup v2 is not mounted. */
static __u64 own_cgroup_id(void)
{
	char line[512], root[256] = "", path[768] = "";
	struct stat st;
	FILE *fp;

	fp = fopen("/proc/self/mountinfo", "r");
	while (fp && fgets(line, sizeof(line), fp))
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %255s", root) == 1)
			break;
	if (fp)
		fclose(fp);
	fp = fopen("/proc/self/cgroup", "r");
	while (fp && fgets(line, sizeof(line), fp))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s%s", root, line + 3);
		}
	if (fp)
		fclose(fp);
	if (!root[0] || !path[0] || stat(path, &st))
		return 0;
	return st.st_ino;
}

/* The frames the explain subtests explain. */
struct explain_frames {
	struct frame f;		/* udp4 */
	struct frame f6;	/* udp6 */
};

static void explain_untagged(const struct explain_frames *fr)
{
	const struct frame *f = &fr->f;
	struct txc_explain_result res;

	if (!reset())
		return;
	if (ASSERT_OK(explain(f, 0, 0, &res), "explain, no rules")) {
		explained_as(&res, TXC_VERDICT_PASS, 0, 0, 0, 0);
		ASSERT_EQ(res.flags, 0, "flags");
		ASSERT_EQ(res.ifindex, 0, "no interface");
		ASSERT_EQ(res.len, f->len, "frame length");
		summary_is(&res.frame, &udp4);	/* parsed even though nothing looked */
	}
	if (!add_flow(&udp6, ID_A1, SRC_1))
		return;
	if (ASSERT_OK(explain(f, 0, 0, &res), "explain, another flow's rule"))
		explained_as(&res, TXC_VERDICT_PASS, 0, 0, 0, 0);
}

static void explain_flow_tagged(const struct explain_frames *fr)
{
	struct txc_explain_result res;

	if (!reset() || !add_flow(&udp6, ID_A2, SRC_2) ||
	    !ASSERT_OK(txdp_id_count_start(dp, ID_A2), "count A2"))
		return;
	if (ASSERT_OK(explain(&fr->f6, 0, 0, &res), "explain")) {
		explained_as(&res, TXC_VERDICT_PASS, ID_A2, SRC_2, TXC_TAG_FLOW, 0);
		summary_is(&res.frame, &udp6);
	}
	stats_are(SRC_2, 0, 0, 0, 0, 0);	/* a pass is not counted either */
	id_stats_are(ID_A2, 0, 0, 0, 0);
}

static void explain_mark_tagged(const struct explain_frames *fr)
{
	const struct frame *f = &fr->f;
	struct txc_explain_result res;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) || !add_mark(0xff, 0x42, ID_B1, SRC_2))
		return;
	if (ASSERT_OK(explain(f, 0x42, 0, &res), "explain mark 0x42"))
		explained_as(&res, TXC_VERDICT_PASS, ID_B1, SRC_2, TXC_TAG_MARK, 0);
	if (ASSERT_OK(explain(f, 0x1200, 0, &res), "explain a mark outside the mask"))
		explained_as(&res, TXC_VERDICT_PASS, ID_A1, SRC_1, TXC_TAG_FLOW, 0);
	if (ASSERT_OK(explain(f, 0x43, 0, &res), "explain a mark without a rule")) {
		explained_as(&res, TXC_VERDICT_PASS, 0, 0, 0, 0);
		ASSERT_EQ(res.flags, TXC_EXPLAIN_F_FOREIGN_MARK, "foreign ID: kept, not retagged");
	}
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_B1, 0, 0), "cancel B1");
	if (ASSERT_OK(explain(f, 0x42, 0, &res), "explain mark 0x42, canceled"))
		explained_as(&res, TXC_VERDICT_DROP, ID_B1, SRC_2, TXC_TAG_MARK, TXC_SCOPE_ID);
}

/* Socket and cgroup tags cannot be explained: the test run's socket is a dummy. */
static void explain_no_socket_tags(const struct explain_frames *fr)
{
	__u64 cg = own_cgroup_id();
	struct txc_tag tag = { .cancel_id = ID_A1, .source = SRC_1 };
	struct txc_explain_result res;

	if (!cg) {
		test_skip("cgroup v2 is not mounted");
		return;
	}
	if (!reset() ||
	    !ASSERT_OK(txdp_tag_add(dp, TXC_TAG_CGROUP, &cg, &tag), "tag own cgroup") ||
	    !ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel A1"))
		return;
	/* The test run's dummy socket is in the caller's cgroup... */
	ASSERT_EQ(tc_verdict(&fr->f, 0), TC_DROP, "the program under test-run matches it");
	/* ...which says nothing about the explained frame's sender. */
	if (ASSERT_OK(explain(&fr->f, 0, 0, &res), "explain"))
		explained_as(&res, TXC_VERDICT_PASS, 0, 0, 0, 0);
}

/*
 * Canceled frames are explained as dropped, with the scope in force, and
 * leave no trace: afterwards the source's counters, sequence number and
 * ring, and the ID's counters, are as before, and the next real abort gets
 * sequence number 1.  The mark's frame (ID A2, source 2) is dropped only if
 * @a2_drops.
 */
static void explain_canceled(const struct explain_frames *fr, int scope, __u32 value,
			     bool a2_drops)
{
	const struct frame *f = &fr->f;
	struct ring_reader *r1 = NULL, *r2 = NULL;
	struct txc_explain_result res;
	struct side_state before, after;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) || !add_mark(0xff, 0x42, ID_A2, SRC_2) ||
	    !ASSERT_OK(txdp_id_count_start(dp, ID_A1), "count A1"))
		goto out;
	r1 = ring_open(SRC_1);
	r2 = ring_open(SRC_2);
	if (!r1 || !r2)
		goto out;
	/* Counters that are not zero, so a change of any is seen. */
	ASSERT_EQ(tc_verdict(f, 0), TC_NEXT, "a real pass first");
	if (!ASSERT_OK(txdp_cancel(dp, scope, value, 0, 0), "cancel"))
		goto out;
	before = side_state_now(ID_A1);
	if (ASSERT_OK(explain(f, 0, 0, &res), "explain")) {
		explained_as(&res, TXC_VERDICT_DROP, ID_A1, SRC_1, TXC_TAG_FLOW, scope);
		summary_is(&res.frame, &udp4);
	}
	if (ASSERT_OK(explain(f, 0x42, 0, &res), "explain the mark's frame"))
		explained_as(&res, a2_drops ? TXC_VERDICT_DROP : TXC_VERDICT_PASS, ID_A2, SRC_2,
			     TXC_TAG_MARK, a2_drops ? scope : 0);
	after = side_state_now(ID_A1);
	ASSERT_MEMEQ(&after, &before, sizeof(after),
		     "source counters, seq and ID counters unchanged");
	ASSERT_EQ(ring_drain(r1), 0, "no record for source 1");
	ASSERT_EQ(ring_drain(r2), 0, "no record for source 2");
	/* The real program: dropped, and the first sequence number. */
	ASSERT_EQ(tc_verdict(f, 0), TC_DROP, "the real program drops it");
	if (ASSERT_EQ(ring_drain(r1), 1, "one record"))
		ASSERT_EQ(r1->rec[0].seq, 1, "explain used no sequence number");
	id_stats_are(ID_A1, 1, f->len, 1, f->len);
out:
	ring_close(r1);
	ring_close(r2);
}

static void explain_canceled_id(const struct explain_frames *fr)
{
	explain_canceled(fr, TXC_SCOPE_ID, ID_A1, false);
}

static void explain_canceled_prefix(const struct explain_frames *fr)
{
	explain_canceled(fr, TXC_SCOPE_PREFIX, PREFIX_A, true);
}

static void explain_canceled_source(const struct explain_frames *fr)
{
	explain_canceled(fr, TXC_SCOPE_SOURCE, SRC_1, false);
}

/* The first interface other than lo, or 0 if there is none. */
static __u32 other_ifindex(void)
{
	struct if_nameindex *ifs = if_nameindex(), *it;
	__u32 idx = 0;

	for (it = ifs; it && it->if_index; it++)
		if (it->if_index != LO_IFINDEX) {
			idx = it->if_index;
			break;
		}
	if_freenameindex(ifs);
	return idx;
}

/* A per-interface cancel, explained on its interface and on others. */
static void explain_iface(const struct explain_frames *fr)
{
	struct txc_iface lo = { .slot = 5, .flags = TXC_IFACE_F_TC_TCX };
	struct txc_iface other = { .slot = 6, .flags = TXC_IFACE_F_TC_TCX };
	int fd = txdp_map_fd(dp, TXDP_MAP_IFACES);
	/* test-run resolves ifindex in our namespace: it must exist. */
	__u32 lo_idx = LO_IFINDEX, other_idx = other_ifindex();
	const struct frame *f = &fr->f;
	struct txc_explain_result res;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) ||
	    !ASSERT_OK(bpf_map_update_elem(fd, &lo_idx, &lo, 0), "iface lo"))
		goto out;
	if (other_idx &&
	    !ASSERT_OK(bpf_map_update_elem(fd, &other_idx, &other, 0), "iface other"))
		goto out;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, lo_idx, 0), "cancel on lo");
	if (ASSERT_OK(explain(f, 0, lo_idx, &res), "explain on lo")) {
		explained_as(&res, TXC_VERDICT_DROP, ID_A1, SRC_1, TXC_TAG_FLOW, TXC_SCOPE_ID);
		ASSERT_EQ(res.ifindex, lo_idx, "ifindex seen");
	}
	if (ASSERT_OK(explain(f, 0, 0, &res), "explain on no interface")) {
		explained_as(&res, TXC_VERDICT_PASS, ID_A1, SRC_1, TXC_TAG_FLOW, 0);
		ASSERT_EQ(res.ifindex, 0, "no interface");
	}
	if (!other_idx) {
		test_skip("no interface but lo here to explain on");
		goto out;
	}
	if (ASSERT_OK(explain(f, 0, other_idx, &res), "explain on the other")) {
		explained_as(&res, TXC_VERDICT_PASS, ID_A1, SRC_1, TXC_TAG_FLOW, 0);
		ASSERT_EQ(res.ifindex, other_idx, "ifindex seen");
	}
	ASSERT_OK(txdp_clear(dp, TXC_SCOPE_ID, ID_A1), "clear");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_SOURCE, SRC_1, other_idx, 0),
		  "source cancel on the other");
	if (ASSERT_OK(explain(f, 0, other_idx, &res), "explain on the other"))
		explained_as(&res, TXC_VERDICT_DROP, ID_A1, SRC_1, TXC_TAG_FLOW, TXC_SCOPE_SOURCE);
	if (ASSERT_OK(explain(f, 0, lo_idx, &res), "explain on lo"))
		explained_as(&res, TXC_VERDICT_PASS, ID_A1, SRC_1, TXC_TAG_FLOW, 0);
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_PREFIX, PREFIX_A, 0, 0), "cancel everywhere");
	if (ASSERT_OK(explain(f, 0, 0, &res), "explain on no interface"))
		explained_as(&res, TXC_VERDICT_DROP, ID_A1, SRC_1, TXC_TAG_FLOW, TXC_SCOPE_PREFIX);
out:
	bpf_map_delete_elem(fd, &lo_idx);
	if (other_idx)
		bpf_map_delete_elem(fd, &other_idx);
	ASSERT_EQ(explain(f, 0, 0x7ffff, &res), -ENODEV, "explain on a missing interface");
	ASSERT_LOGGED("no interface with ifindex", "missing interface");
}

/*
 * Frames the test run refuses (IP ethertype, no whole IP header) are padded
 * and cut back: explained as the truncated frames they are, the same way the
 * real program decides them (checked on XDP, which takes them).  Under 14
 * bytes there is no frame to explain.
 */
static void explain_short_frames(const struct explain_frames *fr)
{
	const struct frame *full[] = { &fr->f, &fr->f6 };
	const size_t ports_end[] = { 14 + 20 + 4, 14 + 40 + 4 };
	struct txc_explain_result res;
	struct frame f = fr->f;
	size_t k, cut;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) || !add_flow(&udp6, ID_A1, SRC_1) ||
	    !add_mark(0xff, 0x42, ID_B1, SRC_2))
		return;
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_PREFIX, PREFIX_A, 0, 0), "cancel prefix A");
	ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_PREFIX, PREFIX_B, 0, 0), "cancel prefix B");
	ASSERT_EQ(txdp_explain(dp, f.data, 13, 0, 0, &res), -EINVAL, "13 bytes refused");
	ASSERT_LOGGED("13 bytes", "too short");
	for (k = 0; k < 2; k++)
		for (cut = 14; cut <= full[k]->len; cut++) {
			struct frame c = *full[k];
			bool flows = cut >= ports_end[k];

			c.len = cut;
			if (!ASSERT_OK(explain(&c, 0, 0, &res), "explain a cut frame") ||
			    !ASSERT_EQ(res.verdict, flows ? TXC_VERDICT_DROP : TXC_VERDICT_PASS,
				       "cut frame verdict") ||
			    !ASSERT_EQ(res.len, cut, "length seen") ||
			    !ASSERT_EQ(!!(res.frame.flags & TXC_FRAME_F_TRUNCATED), !flows,
				       "truncated flag") ||
			    !ASSERT_EQ(xdp_verdict(TXDP_PROG_XDP, &c),
				       flows ? XDP_DROP_RC : XDP_PASS_RC,
				       "the real program agrees"))
				break;
		}
	f.len = 24;	/* Ethernet and 10 bytes of IPv4, tagged by mark: dropped all the same */
	if (ASSERT_OK(explain(&f, 0x42, 0, &res), "explain a short frame tagged by mark")) {
		explained_as(&res, TXC_VERDICT_DROP, ID_B1, SRC_2, TXC_TAG_MARK, TXC_SCOPE_PREFIX);
		ASSERT_EQ(res.len, 24, "length seen");
		ASSERT_EQ(res.frame.eth_proto, htons(0x0800), "summary ethertype");
		ASSERT_EQ(res.frame.family, 0, "no IP header could be read");
		ASSERT_EQ(res.frame.flags, TXC_FRAME_F_TRUNCATED, "summary says truncated");
	}
}

/* The explain program decides as the attached one, for every tag case. */
static void explain_agrees_with_program(const struct explain_frames *fr)
{
	struct txc_explain_result res;
	size_t i;

	(void)fr;
	for (i = 0; i < ARRAY_SIZE(tag_cases); i++) {
		const struct tag_case *c = &tag_cases[i];
		struct frame t = frame_of(&c->spec);
		__u8 kind = c->rule_mark ? TXC_TAG_MARK : TXC_TAG_FLOW;

		if (!reset() ||
		    (c->rule_mark ? !add_mark(c->mark_mask, c->rule_mark, ID_A1, SRC_1)
				  : !add_flow(&c->spec, ID_A1, SRC_1)))
			break;
		if (ASSERT_OK(explain(&t, c->mark, 0, &res), c->name))
			explained_as(&res, TXC_VERDICT_PASS, ID_A1, SRC_1, kind, 0);
		ASSERT_EQ(tc_verdict(&t, c->mark), TC_NEXT, c->name);
		ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel");
		if (ASSERT_OK(explain(&t, c->mark, 0, &res), c->name)) {
			explained_as(&res, TXC_VERDICT_DROP, ID_A1, SRC_1, kind, TXC_SCOPE_ID);
			ASSERT_EQ(res.frame.vlan_tci, c->spec.nvlan ? c->spec.vlan_tci[0] : 0,
				  "summary vlan");
			ASSERT_EQ(res.frame.family, c->spec.family, "summary family");
		}
		ASSERT_EQ(tc_verdict(&t, c->mark), TC_DROP, c->name);
	}
}

/* A second instance explains against the same pinned state. */
static void explain_second_instance(const struct explain_frames *fr)
{
	struct txdp_opts opts = { .pin_dir = pin_dir };
	struct txc_explain_result res;
	struct txdp *dp2;

	if (!reset() || !add_flow(&udp4, ID_A1, SRC_1) ||
	    !ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel") ||
	    !ASSERT_OK(txdp_open(&dp2, &opts), "open a second instance"))
		return;
	if (ASSERT_OK(txdp_explain(dp2, fr->f.data, fr->f.len, 0, 0, &res), "explain"))
		explained_as(&res, TXC_VERDICT_DROP, ID_A1, SRC_1, TXC_TAG_FLOW, TXC_SCOPE_ID);
	txdp_close(dp2);
}

static const TEST_SUB_OF(const struct explain_frames) explain_subs[] = {
	{ "untagged", explain_untagged },
	{ "flow_tagged", explain_flow_tagged },
	{ "mark_tagged", explain_mark_tagged },
	{ "no_socket_tags", explain_no_socket_tags },
	{ "canceled_id", explain_canceled_id },
	{ "canceled_prefix", explain_canceled_prefix },
	{ "canceled_source", explain_canceled_source },
	{ "iface", explain_iface },
	{ "short_frames", explain_short_frames },
	{ "agrees_with_program", explain_agrees_with_program },
	{ "second_instance", explain_second_instance },
};

/*
 * Explain runs a frame through the TC program logic and reports what it
 * decides, with no side effect: no counter (source or ID), no sequence
 * number, no record.
 */
static void test_explain(void)
{
	struct explain_frames fr = { .f = frame_of(&udp4), .f6 = frame_of(&udp6) };

	test_subs_run(explain_subs, &fr);
}

/*
 * A source with a capture length gets version 2 records carrying the
 * frame's first bytes (TC and XDP), padded with zeroes to 8; one without
 * gets version 1 records as before; bad lengths are refused.
 */
static void test_capture(void)
{
	static const struct {
		const char *name;
		__u32 caplen;
		enum txdp_prog prog;	/* TXDP_PROG_COUNT: the TC program */
	} cases[] = {
		{ "tc_short", 20, TXDP_PROG_COUNT },
		{ "tc_whole_frame", TXC_CAPTURE_MAX, TXDP_PROG_COUNT },
		{ "tc_one_byte", 1, TXDP_PROG_COUNT },
		{ "xdp_short", 33, TXDP_PROG_XDP },
		{ "xdp_whole_frame", 300, TXDP_PROG_XDP },
		{ "off", 0, TXDP_PROG_COUNT },
	};
	struct frame f = frame_of(&udp4);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u32 cap = cases[i].caplen, want = cap < f.len ? cap : f.len;
		struct ring_reader *r = NULL;
		__u8 zero[8] = {};
		__u64 t0, t1;
		int rc;

		if (!test_sub_begin("%s", cases[i].name))
			continue;
		if (!reset() || !add_flow(&udp4, ID_A1, SRC_1))
			goto next;
		r = ring_open(SRC_1);
		if (!r)
			goto next;
		r->capture = cap != 0;
		if (!ASSERT_OK(txdp_set_source_caplen(dp, SRC_1, cap), "set capture length") ||
		    !ASSERT_OK(txdp_cancel(dp, TXC_SCOPE_ID, ID_A1, 0, 0), "cancel ID"))
			goto next;
		t0 = mono_ns();
		rc = cases[i].prog == TXDP_PROG_COUNT ? tc_verdict(&f, 0) :
		     xdp_verdict(cases[i].prog, &f);
		t1 = mono_ns();
		ASSERT_EQ(rc, cases[i].prog == TXDP_PROG_COUNT ? TC_DROP : XDP_DROP_RC,
			  "canceled: dropped");
		stats_are(SRC_1, 0, 0, 1, f.len, 0);
		if (!ASSERT_EQ(ring_drain(r), 1, "one record"))
			goto next;
		if (!cap) {
			record_is(&r->rec[0], &udp4, f.len, ID_A1, SRC_1, 1, TXC_HOOK_TC_EGRESS,
				  TXC_TAG_FLOW, TXC_SCOPE_ID, t0, t1);
			goto next;
		}
		ASSERT_EQ(r->rec[0].hdr.version, TXC_RECORD_VERSION_CAPTURE, "record version 2");
		ASSERT_EQ(r->rec[0].hdr.size, TXC_RECORD_CAPTURE_SIZE(want), "record size");
		ASSERT_EQ(r->rec[0].cap_len, want, "bytes carried");
		ASSERT_MEMEQ(r->bytes[0], f.data, want, "the frame's first bytes");
		ASSERT_MEMEQ(r->bytes[0] + want, zero, TXC_RECORD_CAPTURE_SIZE(want) -
			     sizeof(struct txc_abort_record) - want, "padding is zero");
		/* The fixed part is version 1's, but for version, size and cap_len. */
		r->rec[0].hdr.version = TXC_RECORD_VERSION;
		r->rec[0].hdr.size = sizeof(struct txc_abort_record);
		r->rec[0].cap_len = 0;
		record_is(&r->rec[0], &udp4, f.len, ID_A1, SRC_1, 1,
			  cases[i].prog == TXDP_PROG_COUNT ? TXC_HOOK_TC_EGRESS : TXC_HOOK_XDP,
			  TXC_TAG_FLOW, TXC_SCOPE_ID, t0, t1);
next:
		ring_close(r);
		txdp_set_source_caplen(dp, SRC_1, 0);
		test_sub_end();
	}
	if (test_sub_begin("bad_lengths")) {
		ASSERT_EQ(txdp_set_source_caplen(dp, SRC_1, TXC_CAPTURE_MAX + 1), -EINVAL,
			  "more than TXC_CAPTURE_MAX refused");
		ASSERT_LOGGED("capture length 513: must be 0 (none) to 512 bytes",
			      "the common sentence");
		ASSERT_EQ(txdp_set_source_caplen(dp, TXC_SOURCE_NONE, 64), -EINVAL,
			  "source 0 refused");
		test_sub_end();
	}
}

/*
 * The common table of tag kinds against what the kernel loaded: each rule
 * table's key is the size the table says, and the wire's key of that kind.
 */
static void test_tag_kinds(void)
{
	static const struct {
		__u8 kind;
		enum txdp_map_id map;
		__u32 rule_key;
	} rows[] = {
#define ROW(kind, name, lookup, rule_key, map)	{ kind, TXDP_MAP_##map, rule_key },
		TXCC_TAG_KINDS(ROW)
#undef ROW
	};

	if (!reset())
		return;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		char what[64];

		if (!rows[i].rule_key)
			continue;	/* socket tags: the socket's storage, keyed by the socket */
		snprintf(what, sizeof(what), "%s rules: key size", txcc_tag_kind_name(rows[i].kind));
		if (!ASSERT_OK(bpf_obj_get_info_by_fd(txdp_map_fd(dp, rows[i].map), &info, &len),
			       what))
			continue;
		ASSERT_EQ(info.key_size, rows[i].rule_key, what);
		ASSERT_EQ(txc_tag_key_size(rows[i].kind), rows[i].rule_key, what);
	}
}

static const struct test_case cases[] = {
	{ "untagged", test_untagged },
	{ "tag_sources", test_tag_sources },
	{ "cancel_scopes", test_cancel_scopes },
	{ "expiry", test_expiry },
	{ "id_zero", test_id_zero },
	{ "precedence", test_precedence },
	{ "malformed", test_malformed },
	{ "gso", test_gso },
	{ "iface_scope", test_iface_scope },
	{ "ring_full", test_ring_full },
	{ "ring_wakeup", test_ring_wakeup },
	{ "xdp", test_xdp },
	{ "bad_input", test_bad_input },
	{ "id_counters", test_id_counters },
	{ "explain", test_explain },
	{ "capture", test_capture },
	{ "tag_kinds", test_tag_kinds },
};

int main(int argc, char **argv)
{
	struct txdp_opts opts = {};
	int rc;

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/txc-test-dp-%d", getpid());
	opts.pin_dir = pin_dir;
	rc = txdp_open(&dp, &opts);
	if (rc) {
		fprintf(stderr, "cannot load the datapath: %s\n", strerror(-rc));
		printf("FAIL load_datapath: %s\n", strerror(-rc));
		return 1;
	}
	txdp_set_log(capture_log);
	rc = test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
	txdp_unpin(dp);
	txdp_close(dp);
	return rc;
}
