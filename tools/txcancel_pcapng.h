/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A pcapng writer for aborted frames: one section, one interface block per
 * interface as it is first seen, one enhanced packet block per frame with a
 * comment.  Only what Wireshark and tshark need to read a live stream.
 */
#ifndef TXCANCEL_PCAPNG_H
#define TXCANCEL_PCAPNG_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#define PCAPNG_MAX_IFACES	256

struct pcapng {
	FILE *f;
	bool own;		/* opened here (not stdout): closed here */
	__u32 snaplen;
	__u32 n_ifaces;
	__u32 ifindex[PCAPNG_MAX_IFACES];	/* interface ID = position */
};

/* Open @path ("-": stdout) and write the section header; 0 or -errno. */
int pcapng_open(struct pcapng *p, const char *path, __u32 snaplen);
/*
 * One frame: @data holds @caplen of its @origlen bytes, from the Ethernet
 * header on, seen on @ifindex (named @ifname if not NULL) at @real_ns
 * (CLOCK_REALTIME); @comment goes into the block's opt_comment.
 * 0 or -errno (buffered: errors may show only at pcapng_flush()).
 */
int pcapng_packet(struct pcapng *p, __u32 ifindex, const char *ifname, __u64 real_ns,
		  const void *data, __u32 caplen, __u32 origlen, const char *comment);
/* Hand what is buffered to the file or pipe; 0 or -errno (-EPIPE: reader gone). */
int pcapng_flush(struct pcapng *p);
/*
 * The reader is gone (EPIPE): drop what is buffered and the stream's error,
 * so that nothing tries to write it again (stdout at exit), and close.
 */
void pcapng_abandon(struct pcapng *p);
/* Flush and close; 0 or -errno. */
int pcapng_close(struct pcapng *p);

#endif
