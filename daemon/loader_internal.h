/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What loader.c and attach.c share and nobody else needs. */
#ifndef TXC_LOADER_INTERNAL_H
#define TXC_LOADER_INTERNAL_H

#include <limits.h>
#include <sys/types.h>

struct txcancel;
struct txc_qdisc;

struct txc_dp {
	struct txcancel *skel;
	/* Loaded on the first explain: only txc_tc_explain, on skel's maps. */
	struct txcancel *explain;
	/* txcancel's qdisc (qdisc.c), once txc_qdisc_open() loaded it. */
	struct txc_qdisc *qdisc;
	char pin_dir[PATH_MAX - 64];	/* leaves room for "/links/xdp-<ifindex>" */
	__u32 ring_bytes;
};

int txc_mkdir_p(const char *path, mode_t mode);

#endif
