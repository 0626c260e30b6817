/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * demo-client: the sending application of `make demo`.  It behaves like an
 * NDIS protocol driver with several send queues: it takes a prefix, opens a
 * source handle, sends GROUPS streams of UDP datagrams from one socket each
 * (stream g carries cancel ID PREFIX:g+1 and goes to PORT+g), and counts the
 * abort completions it receives per ID.  Whoever cancels (the txcancel tool
 * in the demo) is someone else; this program only sees the completions.
 *
 *   demo-client [-s SOCKET] [-g GROUPS] [-r PER_SECOND] [-t SECONDS] DEST_IP PORT
 *
 * It prints "group G id 0xID source S port P" lines at start (the demo reads
 * them), and "result G sent N completions N" lines plus the source's account
 * at the end.  It sends only to DEST_IP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "txcancel/txcancel.h"

#define MAX_GROUPS	8

struct group {
	int fd;
	__u32 id;
	__u64 sent;
	__u64 completions;
};

static struct group groups[MAX_GROUPS];
static int n_groups = 3;

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_completions(void *ctx, const struct txc_ev_completions *ev,
			   const struct txc_abort_record *recs)
{
	(void)ctx;
	(void)ev;
	for (__u32 i = 0; i < ev->count; i++)
		for (int g = 0; g < n_groups; g++)
			if (recs[i].cancel_id == groups[g].id)
				groups[g].completions++;
}

static int die(struct txc_client *c, const char *what)
{
	fprintf(stderr, "demo-client: %s: %s\n", what, c ? txc_client_error(c) : txc_last_error());
	txc_client_close(c);
	return 1;
}

/* RATE frames a second on every group's stream for SECONDS, completions read meanwhile. */
static int send_streams(struct txc_client *c, struct sockaddr_in *dst, int port, int rate,
			int seconds)
{
	__u64 start, next;

	start = next = now_ms();
	while (now_ms() - start < (__u64)seconds * 1000) {
		int wait = (int)(next > now_ms() ? next - now_ms() : 0);
		struct pollfd pfd = { .fd = txc_client_fd(c), .events = POLLIN };

		if (poll(&pfd, 1, wait) > 0 &&
		    txc_read_completions(c, on_completions, NULL, 0) < 0)
			return die(c, "reading completions");
		if (now_ms() < next)
			continue;
		for (int g = 0; g < n_groups; g++) {
			char payload[64];

			dst->sin_port = htons(port + g);
			snprintf(payload, sizeof(payload), "demo group %d frame %llu", g,
				 (unsigned long long)groups[g].sent);
			/* A canceled frame is dropped after the socket accepted it: send succeeds. */
			if (sendto(groups[g].fd, payload, strlen(payload), 0,
				   (struct sockaddr *)dst, sizeof(*dst)) >= 0)
				groups[g].sent++;
		}
		next += 1000 / rate;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	struct txc_client *c = NULL;
	struct sockaddr_in dst = { .sin_family = AF_INET };
	int rate = 50, seconds = 8, opt, port;
	struct txc_ev_completions acct = {};
	__u32 source;
	__u8 prefix;

	while ((opt = getopt(argc, argv, "s:g:r:t:")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'g': n_groups = atoi(optarg); break;
		case 'r': rate = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2 || n_groups < 1 || n_groups > MAX_GROUPS || rate < 1 ||
	    rate > 10000 || seconds < 1 || seconds > 600 ||
	    inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1 ||
	    (port = atoi(argv[optind + 1])) < 1 || port + n_groups > 65535)
		goto usage;

	if (txc_client_open(&c, sock))
		return die(NULL, "connecting to txcanceld");
	if (txc_generate_partial_cancel_id(c, &prefix))
		return die(c, "allocating a prefix");
	if (txc_source_open(c, &source))
		return die(c, "opening a source");
	for (int g = 0; g < n_groups; g++) {
		groups[g].fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		groups[g].id = TXC_ID_MAKE(prefix, g + 1);
		if (groups[g].fd < 0) {
			perror("demo-client: socket");
			return 1;
		}
		/* NDIS_SET_NET_BUFFER_LIST_CANCEL_ID, once for the whole stream. */
		if (txc_tag_socket(c, groups[g].fd, groups[g].id, source, NULL))
			return die(c, "tagging a socket");
		printf("group %d id 0x%08x source %u port %d\n", g, groups[g].id, source, port + g);
	}
	fflush(stdout);

	if (send_streams(c, &dst, port, rate, seconds))
		return 1;
	/* Completions of the last frames may still be on their way. */
	while (txc_read_completions(c, on_completions, NULL, 500) > 0)
		;
	for (int g = 0; g < n_groups; g++)
		printf("result %d sent %llu completions %llu\n", g,
		       (unsigned long long)groups[g].sent,
		       (unsigned long long)groups[g].completions);
	if (!txc_source_account(c, source, &acct))
		printf("account source %u aborted %llu delivered %llu ring_lost %llu "
		       "backlog_lost %llu\n", source, (unsigned long long)acct.aborted,
		       (unsigned long long)acct.delivered, (unsigned long long)acct.ring_lost,
		       (unsigned long long)acct.backlog_lost);
	txc_client_close(c);
	return 0;
usage:
	fprintf(stderr, "usage: demo-client [-s SOCKET] [-g GROUPS 1..%d] [-r PER_SECOND] "
		"[-t SECONDS] DEST_IPV4 PORT\n", MAX_GROUPS);
	return 2;
}
