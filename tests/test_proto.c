/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The txcanceld socket protocol against a real daemon with no interface (no
 * traffic): every request succeeding once, every validation error with its
 * errno and a sentence that names the problem, permissions between users,
 * leases and their release, and the daemon's start and stop.
 *
 * After every refused message the test checks that the daemon still
 * answers on the same connection (or on a new one where the protocol cannot
 * answer the old one) and that a bystander client, holding a prefix and a
 * source of its own, was not disturbed.
 *
 * The permission tests connect as other users: txct_run_as() switches a
 * child to the uid (with or without CAP_NET_ADMIN), the child connects and
 * says hello, and hands the connected socket back.  The daemon identifies a
 * peer when it connects (SO_PEERCRED, and the capability from
 * /proc/<pid>/status), so the parent can then speak as that user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "proto_peer.h"
#include "proto/proto_test.h"
#include "testlib.h"

/* ========================================================================== */

/* The main daemon, stopped last: exit status 0, nothing left behind. */
static void test_shutdown(void)
{
	struct stat st;
	int ret;

	maps_close();
	peer_close(&root);
	peer_close(&by);
	ret = txct_daemon_stop(&dm);
	if (!ASSERT_EQ(ret, 0, "exit status after SIGTERM"))
		txct_daemon_dump_log(&dm);
	ASSERT_TRUE(stat(dm.sock, &st) && errno == ENOENT, "socket removed");
	ASSERT_TRUE(stat(dm.pin_dir, &st) && errno == ENOENT, "pin dir removed");
}

static const struct test_case cases[] = {
	{ "requests", test_requests },
	{ "validation", test_validation },
	{ "permissions", test_permissions },
	{ "leases", test_leases },
	{ "async", test_async },
	{ "socket_tags", test_socket_tags },
	{ "socket_tags_restart", test_socket_tags_restart },
	{ "lifecycle", test_lifecycle },
	{ "shutdown", test_shutdown },
};

int main(int argc, char **argv)
{
	char mask[16], maxp[16], maxr[16];
	const char *args[] = {
		"--mark-mask", mask, "--max-prefixes", maxp, "--max-rules", maxr, NULL,
	};
	struct stat st;
	int rc, err;

	if (geteuid() != 0) {
		printf("SKIP test_proto: needs root (BPF, other users' connections)\n");
		return 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(mask, sizeof(mask), "0x%x", MARK_MASK);
	snprintf(maxp, sizeof(maxp), "%d", MAX_PREFIXES);
	snprintf(maxr, sizeof(maxr), "%d", MAX_RULES);
	if (stat(txct_daemon_path(), &st)) {
		printf("FAIL daemon: %s not found: make build/txcanceld\n", txct_daemon_path());
		return 1;
	}
	err = txct_daemon_start(&dm, NULL, args);
	if (err) {
		printf("FAIL daemon: txcanceld did not start: %s\n", strerror(-err));
		return 1;
	}
	err = peer_open_lib(&root);
	if (!err)
		err = peer_open_lib(&by);
	if (!err) {
		by_prefix = prefix_alloc(&by, 0);
		by_source = source_open(&by);
	}
	if (err || !by_prefix || !by_source) {
		printf("FAIL setup: clients of the daemon\n");
		txct_daemon_dump_log(&dm);
		txct_daemon_cleanup_all();
		return 1;
	}
	rc = test_main(argc, argv, cases, ARRAY_SIZE(cases));
	if (rc && dm.pid > 0)
		txct_daemon_dump_log(&dm);
	maps_close();
	peer_close(&root);
	peer_close(&by);
	txct_daemon_cleanup(&dm);
	return rc;
}
