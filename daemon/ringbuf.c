// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * BPF ring buffer reader (see ringbuf.h).  The layout is the kernel's UAPI:
 * page 0 holds the consumer position (read-write), page 1 the producer
 * position, and the data area follows, mapped twice in a row so that a
 * record that wraps can be read in one piece.  Each record starts with an
 * 8-byte header whose first word is its length with the BUSY and DISCARD
 * bits (include/uapi/linux/bpf.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "ringbuf.h"

struct txcd_ring {
	int fd;
	size_t page_size;
	size_t mask;		/* data size - 1 */
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	__u8 *data;
};

int txcd_ring_open(struct txcd_ring **ringp, int map_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct txcd_ring *r;
	void *p;
	int err;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = map_fd;
	r->page_size = sysconf(_SC_PAGESIZE);
	r->mask = info.max_entries - 1;
	p = mmap(NULL, r->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	r->consumer_pos = p;
	p = mmap(NULL, r->page_size + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED,
		 map_fd, r->page_size);
	if (p == MAP_FAILED)
		goto fail;
	r->producer_pos = p;
	r->data = (__u8 *)p + r->page_size;
	*ringp = r;
	return 0;
fail:
	err = -errno;
	if (r->consumer_pos)
		munmap(r->consumer_pos, r->page_size);
	free(r);
	return err;
}

void txcd_ring_close(struct txcd_ring *r)
{
	if (!r)
		return;
	munmap(r->consumer_pos, r->page_size);
	munmap(r->producer_pos, r->page_size + 2 * (r->mask + 1));
	close(r->fd);
	free(r);
}

int txcd_ring_fd(const struct txcd_ring *r)
{
	return r->fd;
}

size_t txcd_ring_peek(struct txcd_ring *r, size_t max, txcd_ring_fn fn, void *ctx,
		      __u64 *end)
{
	unsigned long cons = __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
	size_t n = 0;

	while (n < max) {
		unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
		__u32 *hdr, len;

		if (cons >= prod)
			break;
		hdr = (__u32 *)(r->data + (cons & r->mask));
		len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;	/* reserved, not committed yet */
		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			if (!fn(ctx, (__u8 *)hdr + BPF_RINGBUF_HDR_SZ, len))
				break;
			n++;
		}
		len &= ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		cons += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7ul;
	}
	*end = cons;
	return n;
}

void txcd_ring_consume(struct txcd_ring *r, __u64 pos)
{
	__atomic_store_n(r->consumer_pos, (unsigned long)pos, __ATOMIC_RELEASE);
}

__u64 txcd_ring_consumer(const struct txcd_ring *r)
{
	return __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
}

__u64 txcd_ring_pending(const struct txcd_ring *r)
{
	return __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(r->consumer_pos, __ATOMIC_ACQUIRE);
}
