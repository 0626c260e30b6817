// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * pcapng (draft-ietf-opsawg-pcapng) for `txcancel watch -w`: a section
 * header, an interface description per interface (Ethernet, nanosecond
 * time stamps, the capture length as snaplen) and an enhanced packet block
 * per aborted frame.  Written in host byte order, which the section
 * header's byte-order magic announces to the reader.
 */
#include <errno.h>
#include <stdio_ext.h>
#include <string.h>

#include "txcancel_pcapng.h"

#define BT_SHB		0x0A0D0D0Au
#define BT_IDB		0x00000001u
#define BT_EPB		0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define LINKTYPE_ETHERNET 1

#define OPT_ENDOFOPT	0
#define OPT_COMMENT	1
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_TSRESOL	9

#define PAD4(n)		(((n) + 3u) & ~3u)

static int put(struct pcapng *p, const void *data, size_t len)
{
	static const __u8 zero[4];

	if (len && fwrite(data, 1, len, p->f) != len)
		return -(errno ? errno : EIO);
	/* Every field is padded to 32 bits. */
	if (PAD4(len) != len && fwrite(zero, 1, PAD4(len) - len, p->f) != PAD4(len) - len)
		return -(errno ? errno : EIO);
	return 0;
}

static int put32(struct pcapng *p, __u32 v)
{
	return put(p, &v, sizeof(v));
}

/* An option: code, length, value padded to 32 bits. */
static int put_opt(struct pcapng *p, __u16 code, const void *val, __u16 len)
{
	__u16 h[2] = { code, len };
	int err = put(p, h, sizeof(h));

	return err ? err : put(p, val, len);
}

static __u32 opt_size(size_t len)
{
	return 4 + PAD4((__u32)len);
}

static int put_end_opts(struct pcapng *p)
{
	return put32(p, OPT_ENDOFOPT);	/* code 0, length 0 */
}

static int write_shb(struct pcapng *p)
{
	static const char appl[] = "txcancel";
	__u32 len = 28 + opt_size(sizeof(appl) - 1) + 4;
	__u64 section_len = ~0ULL;	/* not known: a stream */
	__u16 version[2] = { 1, 0 };
	int err;

	err = put32(p, BT_SHB);
	err = err ?: put32(p, len);
	err = err ?: put32(p, BYTE_ORDER_MAGIC);
	err = err ?: put(p, version, sizeof(version));
	err = err ?: put(p, &section_len, sizeof(section_len));
	err = err ?: put_opt(p, SHB_USERAPPL, appl, sizeof(appl) - 1);
	err = err ?: put_end_opts(p);
	return err ?: put32(p, len);
}

static int write_idb(struct pcapng *p, const char *name)
{
	__u8 tsresol = 9;	/* 10^-9 s */
	__u16 link[2] = { LINKTYPE_ETHERNET, 0 };
	size_t nlen = strlen(name);
	__u32 len = 20 + opt_size(1) + opt_size(nlen) + 4;
	int err;

	err = put32(p, BT_IDB);
	err = err ?: put32(p, len);
	err = err ?: put(p, link, sizeof(link));
	err = err ?: put32(p, p->snaplen);
	err = err ?: put_opt(p, IF_TSRESOL, &tsresol, 1);
	err = err ?: put_opt(p, IF_NAME, name, (__u16)nlen);
	err = err ?: put_end_opts(p);
	return err ?: put32(p, len);
}

/* The interface ID of @ifindex, its description written on first sight. */
static int iface_id(struct pcapng *p, __u32 ifindex, const char *ifname, __u32 *id)
{
	char name[32];
	int err;

	for (__u32 i = 0; i < p->n_ifaces; i++) {
		if (p->ifindex[i] == ifindex) {
			*id = i;
			return 0;
		}
	}
	if (p->n_ifaces == PCAPNG_MAX_IFACES)
		return -ENOSPC;
	if (ifname)
		snprintf(name, sizeof(name), "%s", ifname);
	else
		snprintf(name, sizeof(name), "ifindex %u", ifindex);
	err = write_idb(p, name);
	if (err)
		return err;
	*id = p->n_ifaces;
	p->ifindex[p->n_ifaces++] = ifindex;
	return 0;
}

int pcapng_packet(struct pcapng *p, __u32 ifindex, const char *ifname, __u64 real_ns,
		  const void *data, __u32 caplen, __u32 origlen, const char *comment)
{
	size_t clen = strlen(comment);
	__u32 id, len;
	int err;

	if (clen > 0xffff)
		clen = 0xffff;
	err = iface_id(p, ifindex, ifname, &id);
	if (err)
		return err;
	len = 28 + PAD4(caplen) + opt_size(clen) + 4 + 4;
	err = put32(p, BT_EPB);
	err = err ?: put32(p, len);
	err = err ?: put32(p, id);
	err = err ?: put32(p, (__u32)(real_ns >> 32));
	err = err ?: put32(p, (__u32)real_ns);
	err = err ?: put32(p, caplen);
	err = err ?: put32(p, origlen);
	err = err ?: put(p, data, caplen);
	err = err ?: put_opt(p, OPT_COMMENT, comment, (__u16)clen);
	err = err ?: put_end_opts(p);
	return err ?: put32(p, len);
}

int pcapng_flush(struct pcapng *p)
{
	errno = 0;
	if (fflush(p->f) || ferror(p->f))
		return -(errno ? errno : EIO);
	return 0;
}

int pcapng_open(struct pcapng *p, const char *path, __u32 snaplen)
{
	int err;

	memset(p, 0, sizeof(*p));
	p->snaplen = snaplen;
	if (!strcmp(path, "-")) {
		p->f = stdout;
	} else {
		p->f = fopen(path, "wb");
		if (!p->f)
			return -errno;
		p->own = true;
	}
	err = write_shb(p);
	return err ?: pcapng_flush(p);
}

int pcapng_close(struct pcapng *p)
{
	int err;

	if (!p->f)
		return 0;
	err = pcapng_flush(p);
	if (p->own && fclose(p->f) && !err)
		err = -(errno ? errno : EIO);
	p->f = NULL;
	return err;
}

void pcapng_abandon(struct pcapng *p)
{
	if (!p->f)
		return;
	__fpurge(p->f);
	clearerr(p->f);
	if (p->own)
		fclose(p->f);
	p->f = NULL;
}
