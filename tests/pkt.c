// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The tests' frames, written as text, built by the one frame builder. */
#include <arpa/inet.h>
#include <string.h>

#include "pkt.h"
#include "../common/frame.h"

void pkt_addr(int family, const char *text, __u8 out[16])
{
	memset(out, 0, 16);
	inet_pton(family == 6 ? AF_INET6 : AF_INET, text, out);
}

size_t pkt_build(const struct pkt_spec *s, void *buf, size_t cap)
{
	struct frame_spec f = {
		.family = s->family, .proto = s->proto,
		.sport = htons(s->sport), .dport = htons(s->dport),
		.nvlan = s->nvlan, .vlan_tci = { s->vlan_tci[0], s->vlan_tci[1] },
		.ipv4_frag_off = s->ipv4_frag_off,
		.ipv6_opts = s->ipv6_opts, .ipv6_frag = s->ipv6_frag,
	};
	size_t hdrs;
	int n;

	if (s->family) {
		pkt_addr(s->family, s->saddr, f.saddr);
		pkt_addr(s->family, s->daddr, f.daddr);
	}
	/* A frame_len shorter than the headers asks for no padding. */
	hdrs = frame_headers_len(&f);
	f.len = s->frame_len > hdrs ? s->frame_len : hdrs;
	n = frame_build(&f, buf, cap);
	return n < 0 ? 0 : n;
}
