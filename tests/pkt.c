// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "pkt.h"

void pkt_addr(int family, const char *text, __u8 out[16])
{
	memset(out, 0, 16);
	inet_pton(family == 6 ? AF_INET6 : AF_INET, text, out);
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static size_t put_l4(const struct pkt_spec *s, __u8 proto, __u8 *p, size_t room)
{
	__u16 sport = htons(s->sport), dport = htons(s->dport);

	if (proto == IPPROTO_TCP) {
		if (room < 20)
			return 0;
		memset(p, 0, 20);
		memcpy(p, &sport, 2);
		memcpy(p + 2, &dport, 2);
		p[12] = 5 << 4;		/* data offset */
		return 20;
	}
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		if (room < 8)
			return 0;
		memset(p, 0, 8);
		p[0] = proto == IPPROTO_ICMP ? 8 : 128;	/* echo request */
		return 8;
	}
	if (room < 8)
		return 0;
	memset(p, 0, 8);
	memcpy(p, &sport, 2);
	memcpy(p + 2, &dport, 2);
	return 8;
}

size_t pkt_build(const struct pkt_spec *s, void *buf, size_t cap)
{
	static const __u8 dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	static const __u8 src_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	__u8 proto = s->proto ? s->proto : IPPROTO_UDP;
	__u8 *p = buf, *l3, *end = (__u8 *)buf + cap;
	__u16 ethertype;
	size_t n, len;
	int i;

	if (cap < 64)
		return 0;
	memset(buf, 0, cap);
	memcpy(p, dst_mac, 6);
	memcpy(p + 6, src_mac, 6);
	p += 12;
	for (i = 0; i < s->nvlan; i++) {
		__u16 tpid = htons(i == 0 && s->nvlan == 2 ? ETH_P_8021AD : ETH_P_8021Q);
		__u16 tci = htons(s->vlan_tci[i]);

		memcpy(p, &tpid, 2);
		memcpy(p + 2, &tci, 2);
		p += 4;
	}
	ethertype = htons(s->family == 4 ? ETH_P_IP : s->family == 6 ? ETH_P_IPV6 : ETH_P_ARP);
	memcpy(p, &ethertype, 2);
	p += 2;
	l3 = p;

	if (s->family == 4) {
		struct iphdr ip = {
			.version = 4, .ihl = 5, .ttl = 64, .protocol = proto,
			.frag_off = htons(s->ipv4_frag_off),
		};

		inet_pton(AF_INET, s->saddr, &ip.saddr);
		inet_pton(AF_INET, s->daddr, &ip.daddr);
		p += sizeof(ip);
		n = (s->ipv4_frag_off & 0x1fff) ? 8 : put_l4(s, proto, p, end - p);
		p += n;
		len = s->frame_len > (size_t)(p - (__u8 *)buf) ? s->frame_len : (size_t)(p - (__u8 *)buf);
		ip.tot_len = htons(len - (l3 - (__u8 *)buf));
		{
			__u16 w[10];
			__u32 sum = 0;

			memcpy(w, &ip, sizeof(ip));
			for (i = 0; i < 10; i++)
				sum += w[i];
			ip.check = csum_fold(sum);
		}
		memcpy(l3, &ip, sizeof(ip));
		return len;
	}
	if (s->family == 6) {
		struct ipv6hdr ip6 = { .version = 6, .hop_limit = 64 };
		__u8 *nexthdr = &ip6.nexthdr;

		inet_pton(AF_INET6, s->saddr, &ip6.saddr);
		inet_pton(AF_INET6, s->daddr, &ip6.daddr);
		p += sizeof(ip6);
		for (i = 0; i < s->ipv6_opts; i++) {
			/* An 8-byte options header: next, length 0, PadN. */
			*nexthdr = i == 0 ? 0 /* hop-by-hop */ : 60 /* dest opts */;
			p[2] = 1;
			p[3] = 4;
			nexthdr = &p[0];
			p += 8;
		}
		if (s->ipv6_frag) {
			__u16 off = htons(s->ipv6_frag == 2 ? (185 << 3) : 1 /* M flag */);

			*nexthdr = 44;
			memcpy(p + 2, &off, 2);
			nexthdr = &p[0];
			p += 8;
		}
		*nexthdr = proto;
		p += s->ipv6_frag == 2 ? 8 : put_l4(s, proto, p, end - p);
		len = s->frame_len > (size_t)(p - (__u8 *)buf) ? s->frame_len : (size_t)(p - (__u8 *)buf);
		ip6.payload_len = htons(len - (l3 - (__u8 *)buf) - sizeof(ip6));
		memcpy(l3, &ip6, sizeof(ip6));
		return len;
	}
	/* An ARP request body is enough for a non-IP frame. */
	p += 28;
	return s->frame_len > (size_t)(p - (__u8 *)buf) ? s->frame_len : (size_t)(p - (__u8 *)buf);
}
