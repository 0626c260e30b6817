// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * prog_cost: the BPF_PROG_TEST_RUN cost per frame of the empty TC program and
 * of txcancel's TC program on untagged, tagged and canceled 64-byte UDP/IPv4
 * frames, all measured in one run.  Each figure is the median of several
 * runs of `repeat` frames, printed with its spread (min..max).
 *
 * The canceled case runs with a consumer thread draining the source's ring,
 * as a daemon would, so that records are written rather than lost.
 *
 * Usage: prog_cost [-r repeat] [-n runs]
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "helpers.skel.h"

#define MAX_RUNS 31

static volatile int consumer_stop;
static unsigned long long consumed;

static int count_record(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	consumed++;
	return 0;
}

static void *consumer(void *arg)
{
	struct ring_buffer *rb = arg;

	while (!consumer_stop)
		ring_buffer__poll(rb, 10);
	ring_buffer__consume(rb);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	return (int)(*(const __u32 *)a > *(const __u32 *)b) -
	       (int)(*(const __u32 *)a < *(const __u32 *)b);
}

/* Median, min and max of @runs test runs of @prog_fd over @frame, in ns/frame. */
static int measure(int prog_fd, const void *frame, size_t len, __u32 repeat, int runs,
		   __u32 *median, __u32 *min, __u32 *max)
{
	__u32 d[MAX_RUNS];
	int i;

	for (i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
			    .repeat = repeat);

		if (bpf_prog_test_run_opts(prog_fd, &opts))
			return -errno;
		d[i] = opts.duration;
	}
	qsort(d, runs, sizeof(d[0]), cmp_u32);
	*median = d[runs / 2];
	*min = d[0];
	*max = d[runs - 1];
	return 0;
}

/* A 64-byte UDP/IPv4 frame 198.18.0.1:40000 -> 198.18.1.2:5001. */
static size_t build_frame(__u8 *f, struct txc_flow_key *key)
{
	static const __u8 hdr[] = {
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0,
		198, 18, 0, 1, 198, 18, 1, 2,
		0x9c, 0x40, 0x13, 0x89, 0, 30, 0, 0,
	};

	memset(f, 0, 64);
	memcpy(f, hdr, sizeof(hdr));
	memset(key, 0, sizeof(*key));
	key->family = TXC_FAMILY_IPV4;
	key->proto = 17;
	key->sport = htons(40000);
	key->dport = htons(5001);
	memcpy(key->saddr, hdr + 26, 4);
	memcpy(key->daddr, hdr + 30, 4);
	return 64;
}

int main(int argc, char **argv)
{
	struct txc_dp_opts dp_opts = {};
	struct ring_buffer *rb = NULL;
	struct helpers *helpers = NULL;
	struct txc_tag tag = { .cancel_id = TXC_ID_MAKE(5, 1), .source = 1 };
	struct txc_flow_key key, other;
	struct txc_dp *dp = NULL;
	__u32 repeat = 1000000, med, lo, hi, empty_med = 0;
	int runs = 5, opt, ring_fd = -1, err, tc;
	char pin_dir[64];
	pthread_t thread;
	__u8 frame[64];
	size_t len;
	struct {
		const char *name;
		int setup;
	} cases[] = {
		{ "txcancel, no rules (untagged)", 0 },
		{ "txcancel, untagged, 1 flow rule", 1 },
		{ "txcancel, tagged, not canceled", 2 },
		{ "txcancel, canceled, ring drained", 3 },
	};
	size_t i;

	while ((opt = getopt(argc, argv, "r:n:")) != -1) {
		if (opt == 'r')
			repeat = strtoul(optarg, NULL, 0);
		else if (opt == 'n')
			runs = atoi(optarg);
		else {
			fprintf(stderr, "usage: %s [-r repeat] [-n runs (1..%d)]\n", argv[0], MAX_RUNS);
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || !repeat) {
		fprintf(stderr, "prog_cost: runs must be 1..%d and repeat at least 1\n", MAX_RUNS);
		return 2;
	}

	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/txc-prog-cost-%d", getpid());
	dp_opts.pin_dir = pin_dir;
	err = txc_dp_open(&dp, &dp_opts);
	if (err)
		goto out;
	helpers = helpers__open_and_load();
	if (!helpers) {
		err = -errno;
		fprintf(stderr, "prog_cost: loading the empty program: %s\n", strerror(errno));
		goto out;
	}
	len = build_frame(frame, &key);
	other = key;
	other.dport = htons(9999);
	tc = txc_dp_prog_fd(dp, TXC_PROG_TC_EGRESS);

	printf("BPF_PROG_TEST_RUN, 64-byte UDP/IPv4, repeat %u, median of %d runs (min..max), ns/frame\n",
	       repeat, runs);
	err = measure(bpf_program__fd(helpers->progs.empty_tc), frame, len, repeat, runs,
		      &empty_med, &lo, &hi);
	if (err)
		goto out;
	printf("  %-36s %5u  (%u..%u)\n", "empty TC program", empty_med, lo, hi);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		switch (cases[i].setup) {
		case 1:
			err = txc_dp_tag_add(dp, TXC_TAG_FLOW, &other, &tag);
			break;
		case 2:
			err = txc_dp_tag_add(dp, TXC_TAG_FLOW, &key, &tag);
			break;
		case 3:
			err = txc_dp_cancel(dp, TXC_SCOPE_ID, tag.cancel_id, 0, 0);
			ring_fd = err ? err : txc_dp_ring_open(dp, tag.source);
			err = ring_fd < 0 ? ring_fd : 0;
			if (!err) {
				rb = ring_buffer__new(ring_fd, count_record, NULL, NULL);
				err = rb ? pthread_create(&thread, NULL, consumer, rb) : -errno;
				err = err > 0 ? -err : err;
			}
			break;
		}
		if (err)
			goto out;
		err = measure(tc, frame, len, repeat, runs, &med, &lo, &hi);
		if (cases[i].setup == 3) {
			consumer_stop = 1;
			pthread_join(thread, NULL);
		}
		if (err)
			goto out;
		printf("  %-36s %5u  (%u..%u)  +%d over empty\n", cases[i].name, med, lo, hi,
		       (int)med - (int)empty_med);
	}
	{
		struct txc_source_stats s;

		if (!txc_dp_source_stats(dp, tag.source, &s))
			printf("  canceled case: %llu aborted = %llu records consumed + %llu lost\n",
			       (unsigned long long)s.aborted_frames, consumed,
			       (unsigned long long)s.lost_reports);
	}
out:
	if (err)
		fprintf(stderr, "prog_cost: %s\n", strerror(-err));
	ring_buffer__free(rb);
	if (ring_fd >= 0)
		close(ring_fd);
	helpers__destroy(helpers);
	if (dp)
		txc_dp_unpin(dp);
	txc_dp_close(dp);
	return err ? 1 : 0;
}
