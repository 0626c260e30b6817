// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * dp_cost's frames and table contents: the measured frames, and the other
 * flow rules and ID cancels that fill the tables to a level's size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../common/frame.h"
#include "dp_cost.h"

#define FILLER_SOURCE	2u		/* the source of every other rule */
#define FILLER_PREFIX	7u		/* IDs of the other rules */
#define CANCEL_PREFIX	9u		/* IDs of the other cancels */
#define FILL_CHUNK	8192u

/* --- frames --------------------------------------------------------------- */

/* 198.18.0.1:sport -> 198.18.1.2:5001 or 2001:db8::1 -> 2001:db8:1::2, 64 bytes. */
void build_frame(struct frame *f, int fam, __u16 sport)
{
	static const __u8 v4s[4] = { 198, 18, 0, 1 }, v4d[4] = { 198, 18, 1, 2 };
	static const __u8 v6s[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const __u8 v6d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };
	struct frame_spec spec = {
		.family = fam == V4 ? TXC_FAMILY_IPV4 : TXC_FAMILY_IPV6, .proto = IPPROTO_UDP,
		.sport = htons(sport), .dport = htons(5001), .len = sizeof(f->data),
	};

	memset(f, 0, sizeof(*f));
	memcpy(spec.saddr, fam == V4 ? v4s : v6s, fam == V4 ? 4 : 16);
	memcpy(spec.daddr, fam == V4 ? v4d : v6d, fam == V4 ? 4 : 16);
	/* 64 bytes hold the headers of both families: this cannot fail. */
	frame_build(&spec, f->data, sizeof(f->data));
	f->key.family = spec.family;
	memcpy(f->key.saddr, spec.saddr, 16);
	memcpy(f->key.daddr, spec.daddr, 16);
	f->key.proto = IPPROTO_UDP;
	f->key.sport = spec.sport;
	f->key.dport = spec.dport;
}

/* --- table filling -------------------------------------------------------- */

/*
 * Rule @i of the others: alternately IPv4 and IPv6 flows to 198.19.0.0/16
 * and 2001:db8:fffe::/64, never a flow of the measured frames.
 */
static void filler_rule(__u32 i, struct txc_flow_key *k, struct txc_tag *t)
{
	memset(k, 0, sizeof(*k));
	k->proto = 17;
	k->sport = htons(40000);
	k->dport = htons(10000 + (i >> 16));
	if (i & 1) {
		static const __u8 s[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xfe, [15] = 1 };

		k->family = TXC_FAMILY_IPV6;
		memcpy(k->saddr, s, 16);
		memcpy(k->daddr, s, 12);
		k->daddr[14] = (i >> 8) & 0xff;
		k->daddr[15] = i & 0xff;
	} else {
		k->family = TXC_FAMILY_IPV4;
		k->saddr[0] = 198, k->saddr[1] = 19, k->saddr[2] = 255, k->saddr[3] = 1;
		k->daddr[0] = 198, k->daddr[1] = 19;
		k->daddr[2] = (i >> 8) & 0xff;
		k->daddr[3] = i & 0xff;
	}
	t->cancel_id = TXC_ID_MAKE(FILLER_PREFIX, i + 1);
	t->source = FILLER_SOURCE;
}

static int update_batch(int fd, const void *keys, const void *vals, __u32 n, const char *what)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n;

	if (bpf_map_update_batch(fd, keys, vals, &count, &opts) || count != n) {
		fprintf(stderr, "dp_cost: adding %s: %s (%u of %u stored)\n", what,
			strerror(errno), count, n);
		return -errno ?: -EIO;
	}
	return 0;
}

/* Grow the other flow rules to @want (the rule table then holds @want + 1). */
int fill_rules(struct bench *b, __u32 want)
{
	static struct txc_flow_key keys[FILL_CHUNK];
	static struct txc_tag tags[FILL_CHUNK];
	int err;

	while (b->fillers < want) {
		__u32 n = want - b->fillers < FILL_CHUNK ? want - b->fillers : FILL_CHUNK;

		for (__u32 j = 0; j < n; j++)
			filler_rule(b->fillers + j, &keys[j], &tags[j]);
		err = update_batch(b->flow_fd, keys, tags, n, "flow rules");
		if (err)
			return err;
		b->fillers += n;
	}
	return 0;
}

/* Grow the other ID cancels (in force on every interface, never expiring) to @want. */
int fill_cancels(struct bench *b, __u32 want)
{
	static __u32 ids[FILL_CHUNK];
	static struct txc_cancel vals[FILL_CHUNK];
	int err;

	while (b->filler_cancels < want) {
		__u32 n = want - b->filler_cancels < FILL_CHUNK ? want - b->filler_cancels : FILL_CHUNK;

		for (__u32 j = 0; j < n; j++) {
			ids[j] = TXC_ID_MAKE(CANCEL_PREFIX, b->filler_cancels + j + 1);
			vals[j] = (struct txc_cancel){
				.flags = TXC_CANCEL_F_ACTIVE | TXC_CANCEL_F_ALL_IFACES,
			};
		}
		err = update_batch(b->cancels_fd, ids, vals, n, "ID cancels");
		if (err)
			return err;
		b->filler_cancels += n;
	}
	/* Through the datapath library once, which turns the ID cancel lookup on. */
	return want ? txdp_cancel(b->dp, TXC_SCOPE_ID, TXC_ID_MAKE(CANCEL_PREFIX, 1), 0, 0) : 0;
}

/* Make @fam's frame the one whose rule is in the table (there is one own rule). */
int own_rule(struct bench *b, int fam)
{
	struct txc_tag tag = { .cancel_id = own_id(fam), .source = SOURCE };
	int err;

	if (b->own == fam)
		return 0;
	if (b->own >= 0) {
		err = txdp_tag_del(b->dp, TXC_TAG_FLOW, &b->tagged[b->own].key);
		if (err)
			return err;
	}
	err = txdp_tag_add(b->dp, TXC_TAG_FLOW, &b->tagged[fam].key, &tag);
	b->own = err ? -1 : fam;
	return err;
}
