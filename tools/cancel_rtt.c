/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cancel-rtt: the round trip of one cancel request through txcanceld, as a
 * client sees it: request sent, map updated, reply read.  Measures and
 * prints; it never fails on a time.
 *
 *   cancel-rtt [-s SOCKET] [-n COUNT]
 *
 * Takes a prefix, then COUNT times cancels and clears one ID, timing each
 * call, and prints the median, p99 and max of both, and the requests/s of
 * the whole loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "txcancel/txcancel.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, __u64 *ns, int n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	printf("%-7s n=%d  p50 %.1f us  p99 %.1f us  max %.1f us\n", what, n,
	       ns[n / 2] / 1e3, ns[(int)(n * 0.99)] / 1e3, ns[n - 1] / 1e3);
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	struct txc_client *c;
	__u64 *cancel_ns, *clear_ns, t0, total;
	int n = 10000, opt;
	__u8 prefix;

	while ((opt = getopt(argc, argv, "s:n:")) != -1) {
		if (opt == 's')
			sock = optarg;
		else if (opt == 'n' && atoi(optarg) > 0)
			n = atoi(optarg);
		else {
			fprintf(stderr, "usage: cancel-rtt [-s SOCKET] [-n COUNT]\n");
			return 2;
		}
	}
	cancel_ns = calloc(n, sizeof(*cancel_ns));
	clear_ns = calloc(n, sizeof(*clear_ns));
	if (!cancel_ns || !clear_ns)
		return 1;
	if (txc_client_open(&c, sock)) {
		fprintf(stderr, "cancel-rtt: %s\n", txc_last_error());
		return 1;
	}
	if (txc_generate_partial_cancel_id(c, &prefix)) {
		fprintf(stderr, "cancel-rtt: %s\n", txc_client_error(c));
		return 1;
	}
	total = now_ns();
	for (int i = 0; i < n; i++) {
		__u32 id = TXC_ID_MAKE(prefix, i + 1);

		t0 = now_ns();
		if (txc_cancel(c, TXC_SCOPE_ID, id, NULL, 0, NULL))
			goto fail;
		cancel_ns[i] = now_ns() - t0;
		t0 = now_ns();
		if (txc_clear(c, TXC_SCOPE_ID, id, NULL))
			goto fail;
		clear_ns[i] = now_ns() - t0;
	}
	total = now_ns() - total;
	report("cancel", cancel_ns, n);
	report("clear", clear_ns, n);
	printf("loop    %.0f requests/s (cancel + clear, one at a time)\n", 2.0 * n / (total / 1e9));
	txc_client_close(c);
	return 0;
fail:
	fprintf(stderr, "cancel-rtt: %s\n", txc_client_error(c));
	return 1;
}
