// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcancel's XDP program in libxdp's multi-program dispatcher, so that it
 * shares an interface with programs xdp-loader (or any libxdp user) loads:
 * it runs at priority TXDP_XDP_RUN_PRIO and passes the frames it lets
 * through (XDP_PASS) on to the next program.
 *
 * The dispatcher calls its programs through freplace (BPF_PROG_TYPE_EXT):
 * libxdp loads each program itself, against the dispatcher it is attached
 * to.  So the program is loaded again here, from the object the skeleton
 * embeds, with every map taken from the loaded skeleton: it is the same
 * datapath.  libxdp pins the dispatcher and the program's link under
 * /sys/fs/bpf/xdp; they stay when the daemon exits, as txcancel's own pins
 * do, and are found again by name to detach.
 *
 * Where the kernel cannot run the dispatcher (no freplace: too old, or
 * refused), libxdp falls back to attaching the program alone; that is
 * undone here and the caller attaches with a link of its own, as before.
 * libxdp finds the programs on an interface by id, which takes
 * CAP_SYS_ADMIN: without it (txcanceld's unit does not grant it) the
 * dispatcher is not tried at all, since txcancel could not take its
 * program out again.
 *
 * libxdp 1.3 keeps descriptors of every dispatcher it builds (six per
 * attach and detach): each call runs in a child process, whose exit
 * frees whatever libxdp kept.  The child has the daemon's maps (a fork
 * shares its descriptors), and what it attaches stays pinned in bpffs.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "dp.h"
#include "dp_internal.h"
#include "txcancel.skel.h"

#define XDP_PROG_NAME	"txc_xdp"

/*
 * Set once libxdp found the kernel cannot run its dispatcher: that does not
 * change, and finding out loads and attaches programs each time.
 */
static bool no_dispatcher;

/* libxdp's own messages are details of what the caller reports. */
static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	txdp_vlog(TXDP_LOG_DEBUG, fmt, ap);
	return 0;
}

static enum xdp_attach_mode xdp_mode(__u32 xdp_flags)
{
	return xdp_flags & XDP_FLAGS_SKB_MODE ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

/* A second copy of the XDP program that uses the skeleton's maps. */
static struct bpf_object *open_xdp_object(const struct txdp *dp)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "txcancel");
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	const void *elf;
	size_t size;
	int err = 0;

	elf = txcancel__elf_bytes(&size);
	obj = bpf_object__open_mem(elf, size, &opts);
	if (!obj)
		return NULL;
	bpf_object__for_each_program(prog, obj)
		bpf_program__set_autoload(prog, !strcmp(bpf_program__name(prog), XDP_PROG_NAME));
	bpf_object__for_each_map(map, obj) {
		struct bpf_map *own = bpf_object__find_map_by_name(dp->skel->obj,
								   bpf_map__name(map));

		err = own ? bpf_map__reuse_fd(map, bpf_map__fd(own)) : -ENOENT;
		if (err)
			break;
	}
	if (err) {
		txdp_log(TXDP_LOG_DEBUG, "xdp: map %s of the dispatcher's copy: %s\n",
			bpf_map__name(map), strerror(-err));
		bpf_object__close(obj);
		errno = -err;
		return NULL;
	}
	return obj;
}

static bool have_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN);
}

/* The dispatcher on @ifindex, if there is one (NULL: none, or a program alone). */
static struct xdp_multiprog *dispatcher_of(__u32 ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);

	if (libxdp_get_error(mp))
		return NULL;
	if (xdp_multiprog__is_legacy(mp)) {
		xdp_multiprog__close(mp);
		return NULL;
	}
	return mp;
}

static int multi_attach(struct txdp *dp, __u32 ifindex, __u32 xdp_flags, __u8 *why)
{
	enum xdp_attach_mode mode = xdp_mode(xdp_flags);
	struct xdp_multiprog *mp;
	struct xdp_program *xp;
	struct bpf_object *obj;
	int err;

	libxdp_set_print(libxdp_print);
	*why = TXC_XDP_LINK_LIBXDP;
	obj = open_xdp_object(dp);
	if (!obj)
		return -errno;
	xp = xdp_program__from_bpf_obj(obj, "xdp");
	err = libxdp_get_error(xp);
	if (err) {
		bpf_object__close(obj);
		return err;
	}
	xdp_program__set_run_prio(xp, TXDP_XDP_RUN_PRIO);
	xdp_program__set_chain_call_enabled(xp, XDP_PASS, true);
	/* libxdp tries its dispatcher and says at libbpf's warning level when it cannot. */
	txdp_libbpf_quiet(true);
	err = xdp_program__attach(xp, ifindex, mode, 0);
	txdp_libbpf_quiet(false);
	if (!err) {
		mp = dispatcher_of(ifindex);
		if (!mp) {
			/* libxdp attached it alone: the kernel has no dispatcher for it. */
			LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = xdp_program__fd(xp));

			bpf_xdp_detach(ifindex, XDP_FLAGS_REPLACE | (xdp_flags & XDP_FLAGS_MODES),
				       &opts);
			*why = TXC_XDP_LINK_NO_DISPATCHER;
			err = -EOPNOTSUPP;
		}
		xdp_multiprog__close(mp);
	}
	xdp_program__close(xp);
	bpf_object__close(obj);
	return err;
}

static int multi_detach(__u32 ifindex)
{
	struct xdp_multiprog *mp;

	libxdp_set_print(libxdp_print);
	mp = dispatcher_of(ifindex);
	struct xdp_program *p;
	int err = -ENOENT;

	if (!mp) {
		/* The interface went, and its dispatcher with it: forget the pins. */
		libxdp_clean_references(ifindex);
		return 0;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		if (strcmp(xdp_program__name(p), XDP_PROG_NAME))
			continue;
		err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0);
		break;
	}
	xdp_multiprog__close(mp);
	return err;
}

struct child_result {
	int err;
	__u8 why;
};

/*
 * Run an attach (@dp set) or a detach in a child process; its outcome comes
 * back through a pipe.  -ECHILD if the child died without one.
 */
static int in_child(struct txdp *dp, __u32 ifindex, __u32 xdp_flags, __u8 *why)
{
	struct child_result r = { .err = -ECHILD, .why = TXC_XDP_LINK_LIBXDP };
	int pfd[2], status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		r.err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return r.err;
	}
	if (pid == 0) {
		close(pfd[0]);
		r.err = dp ? multi_attach(dp, ifindex, xdp_flags, &r.why) : multi_detach(ifindex);
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &r, sizeof(r)) != sizeof(r))
		r.err = -ECHILD;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (why)
		*why = r.why;
	return r.err;
}

int txdp_xdp_multi_attach(struct txdp *dp, __u32 ifindex, __u32 xdp_flags, __u8 *why)
{
	int err;

	if (no_dispatcher) {
		*why = TXC_XDP_LINK_NO_DISPATCHER;
		return -EOPNOTSUPP;
	}
	if (!have_cap_sys_admin()) {
		*why = TXC_XDP_LINK_NO_SYS_ADMIN;
		return -EPERM;
	}
	err = in_child(dp, ifindex, xdp_flags, why);
	if (err == -EOPNOTSUPP && *why == TXC_XDP_LINK_NO_DISPATCHER)
		no_dispatcher = true;
	return err;
}

int txdp_xdp_multi_detach(__u32 ifindex)
{
	return in_child(NULL, ifindex, 0, NULL);
}
