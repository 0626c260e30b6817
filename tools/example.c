/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcancel-example: one NDIS send-cancel cycle with libtxcancel.
 *
 *   txcancel-example [-s SOCKET] DEST_IP PORT [COUNT]
 *
 * Sends COUNT (default 20) UDP datagrams to DEST_IP:PORT, and nowhere else,
 * from a socket whose frames carry one cancel ID; cancels that ID half-way
 * and keeps sending; then prints the abort completion of every datagram the
 * datapath dropped, the source's account, and clears the cancel.  txcanceld
 * must manage the interface the datagrams leave by.
 *
 * Build it on its own with:  cc example.c $(pkg-config --cflags --libs txcancel)
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <txcancel/txcancel.h>

static int fail(struct txc_client *c, const char *what)
{
	fprintf(stderr, "txcancel-example: %s: %s\n", what,
		c ? txc_client_error(c) : txc_last_error());
	txc_client_close(c);
	return 1;
}

/* ProtocolSendNetBufferListsComplete: every record is one aborted datagram. */
static void on_completions(void *ctx, const struct txc_ev_completions *ev,
			   const struct txc_abort_record *recs)
{
	unsigned int *seen = ctx;

	for (__u32 i = 0; i < ev->count; i++)
		printf("  completion: id 0x%08x source %u seq %llu len %u status 0x%08X\n",
		       recs[i].cancel_id, recs[i].source, (unsigned long long)recs[i].seq,
		       recs[i].len, recs[i].hdr.status);
	*seen += ev->count;
}

/* A UDP socket for DEST_IP (IPv4 or IPv6) and the address to send to. */
static int udp_socket(const char *ip, const char *port, struct sockaddr_storage *dst,
		      socklen_t *dst_len)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai;
	int fd, err;

	err = getaddrinfo(ip, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "txcancel-example: %s port %s: %s\n", ip, port, gai_strerror(err));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		perror("txcancel-example: socket");
	memcpy(dst, ai->ai_addr, ai->ai_addrlen);	/* the only address we send to */
	*dst_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return fd;
}

/* COUNT datagrams, the ID canceled half-way: the rest are aborted. */
static int send_and_cancel(struct txc_client *c, int fd, const struct sockaddr_storage *dst,
			   socklen_t dst_len, __u32 id, unsigned int count)
{
	for (unsigned int i = 0; i < count; i++) {
		char payload[64];
		int len;

		if (i == count / 2) {
			if (txc_cancel_send_net_buffer_lists(c, id))
				return fail(c, "cancel");
			printf("canceled ID 0x%08x after %u datagrams\n", id, i);
		}
		len = snprintf(payload, sizeof(payload), "txcancel-example %u/%u", i + 1, count);
		if (sendto(fd, payload, len, 0, (const struct sockaddr *)dst, dst_len) < 0)
			fprintf(stderr, "txcancel-example: datagram %u: %s\n", i + 1,
				strerror(errno));
		usleep(10 * 1000);
	}
	return 0;
}

/* The completions, the source's account, and the cancel cleared. */
static int report(struct txc_client *c, __u32 source, __u32 id)
{
	struct txc_ev_completions acct;
	struct txc_rep_clear final;
	unsigned int seen = 0;
	int n;

	/* Completions come in batches: read until a second passes without one. */
	printf("completions:\n");
	do {
		n = txc_read_completions(c, on_completions, &seen, 1000);
	} while (n > 0);
	if (n < 0)
		return fail(c, "read completions");
	printf("%u completions received\n", seen);

	/* Every abort is a completion or a counted loss, once the datapath is idle. */
	if (!txc_source_account(c, source, &acct))
		printf("source %u: aborted %llu %s delivered %llu + ring_lost %llu + "
		       "backlog_lost %llu\n", source, (unsigned long long)acct.aborted,
		       acct.aborted == acct.delivered + acct.ring_lost + acct.backlog_lost ?
		       "=" : "!=", (unsigned long long)acct.delivered,
		       (unsigned long long)acct.ring_lost, (unsigned long long)acct.backlog_lost);

	/* The cancel ID set back to NULL: frames with it flow again. */
	if (txc_clear(c, TXC_SCOPE_ID, id, &final))
		return fail(c, "clear");
	if (final.valid)
		printf("ID 0x%08x: %llu frames passed, %llu aborted\n", id,
		       (unsigned long long)final.counts.passed_frames,
		       (unsigned long long)final.counts.aborted_frames);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;	/* NULL: $TXCANCEL_SOCKET or the default */
	struct txc_client *c = NULL;
	struct sockaddr_storage dst;
	unsigned int count = 20;
	__u32 source, id;
	socklen_t dst_len;
	__u8 prefix;
	int opt, fd;

	while ((opt = getopt(argc, argv, "s:")) != -1) {
		if (opt != 's')
			goto usage;
		path = optarg;
	}
	if (argc - optind < 2 || argc - optind > 3)
		goto usage;
	if (argc - optind == 3)
		count = strtoul(argv[optind + 2], NULL, 10);
	if (count < 1 || count > 100000)
		goto usage;
	fd = udp_socket(argv[optind], argv[optind + 1], &dst, &dst_len);
	if (fd < 0)
		return 1;

	if (txc_client_open(&c, path))
		return fail(NULL, "connect");
	/* NdisGeneratePartialCancelId: our IDs are this prefix's. */
	if (txc_generate_partial_cancel_id(c, &prefix))
		return fail(c, "prefix");
	/* The SourceHandle: completions of frames tagged for it come to us. */
	if (txc_source_open(c, &source))
		return fail(c, "source");
	id = TXC_ID_MAKE(prefix, 1);
	/* NDIS_SET_NET_BUFFER_LIST_CANCEL_ID for every frame of this socket. */
	if (txc_tag_socket(c, fd, id, source, NULL))
		return fail(c, "tag socket");
	/* Per-ID counters, so that txc_clear() can report the final counts. */
	if (txc_count_id(c, id, 1))
		return fail(c, "count ID");
	printf("prefix %u, source %u: datagrams to %s port %s carry ID 0x%08x\n",
	       prefix, source, argv[optind], argv[optind + 1], id);

	if (send_and_cancel(c, fd, &dst, dst_len, id, count) || report(c, source, id))
		return 1;
	txc_client_close(c);
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: %s [-s SOCKET] DEST_IP PORT [COUNT]\n", argv[0]);
	return 2;
}
