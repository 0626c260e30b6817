// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
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
#include "proto_test.h"
#include "testlib.h"

/* ========================================================================== */
/* Daemon lifecycle                                                           */
/* ========================================================================== */

/*
 * In a child as UID_C: with --max-conns 2 the third connection gets one
 * error reply naming the limit and is closed, and a connection freed makes
 * room again.  Returns 0 or the number of the check that failed.
 */
static int conn_limit_child(void *arg)
{
	const char *path = arg;
	struct peer p[3];
	int ret = 0;

	for (int i = 0; i < 3; i++)
		if (peer_open_path(&p[i], path))
			return 1;
	if (!peer_hello(&p[0]) || !peer_hello(&p[1]))
		ret = 2;
	else if (raw_recv(p[2].fd, &rep) < (int)(HDR + sizeof(rep.err)) ||
		 rep.h.error != -EDQUOT || rep.h.seq != 0 ||
		 !strstr(rep.err.message, "per-user limit (--max-conns)"))
		ret = 3;	/* not refused, or without saying why */
	else if (raw_recv(p[2].fd, &rep) != -ECONNRESET)
		ret = 6;	/* and then closed */
	peer_close(&p[2]);
	peer_close(&p[1]);
	/* The daemon counts the close when it reaps the connection: retry a while. */
	for (int i = 0; !ret && i < 100; i++) {
		if (peer_open_path(&p[2], path))
			return 4;
		if (hello(&p[2], &rep) >= 0 && !rep.h.error)
			break;
		peer_close(&p[2]);
		test_sleep_ms(20);
		if (i == 99)
			ret = 5;
	}
	if (ret)
		printf("    --max-conns as uid %u: check %d failed\n", getuid(), ret);
	for (int i = 0; i < 3; i++)
		peer_close(&p[i]);
	return ret;
}

/* A second txcanceld run as @argv refuses: it exits non-zero, naming the first. */
static void second_refused(const char *const *argv, char *out, size_t out_len)
{
	int ret = txct_spawn_wait(argv, out, out_len, 10000);

	ASSERT_TRUE(ret != 0, "the second daemon exits non-zero");
	if (!ASSERT_TRUE(strstr(out, "another txcanceld is serving") != NULL,
			 "and says another txcanceld is serving"))
		printf("    its output:\n%s\n", out);
}

/* @c's rule holds: the program finds @id for @frame (with @mark). */
static bool rule_kept(struct txc_client *c, __u32 mark, const __u8 *frame, __u32 len, __u32 id,
		      const char *what)
{
	struct txc_rep_explain ex;

	return ASSERT_OK(txc_explain(c, NULL, mark, frame, len, &ex), "EXPLAIN") &&
	       ASSERT_EQ(ex.cancel_id, id, what);
}

void test_lifecycle(void)
{
	static const char *const args[] = { "--mark-mask", "0xff", NULL };
	struct txct_daemon x, y;
	struct stat st;
	char out[8192];
	int ret;

	if (test_sub_begin("sigterm_exits_clean")) {
		if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start")) {
			struct peer p;

			/* A client with leases and a source does not hold the exit up. */
			if (ASSERT_OK(peer_open_path(&p, x.sock), "connect")) {
				ASSERT_TRUE(prefix_alloc(&p, 0) != 0, "prefix");
				ASSERT_TRUE(source_open(&p) != 0, "source");
			}
			ret = txct_daemon_stop(&x);
			if (!ASSERT_EQ(ret, 0, "exit status after SIGTERM"))
				txct_daemon_dump_log(&x);
			ASSERT_TRUE(stat(x.sock, &st) && errno == ENOENT, "socket removed");
			ASSERT_TRUE(stat(x.pin_dir, &st) && errno == ENOENT, "pin dir removed");
			peer_close(&p);
		}
		txct_daemon_cleanup(&x);
		test_sub_end();
	}

	if (test_sub_begin("second_daemon_refused")) {
		if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start the first")) {
			char other_pins[160];
			const char *argv[] = {
				txct_daemon_path(), "-s", x.sock, "-d", other_pins, NULL,
			};
			struct txc_client *c = NULL;
			__u32 pid_before = x.pid;

			snprintf(other_pins, sizeof(other_pins), "%s-second", x.pin_dir);
			second_refused(argv, out, sizeof(out));
			ASSERT_TRUE(!stat(x.sock, &st), "the first's socket is still there");
			if (ASSERT_OK(txc_client_open(&c, x.sock),
				      "the first still accepts clients")) {
				struct txc_rep_status s;

				ASSERT_OK(txc_status(c, &s, NULL, 0, NULL, 0), "and answers");
				ASSERT_EQ(s.pid, pid_before, "the same daemon");
				txc_client_close(c);
			}
			/* The refused daemon must not leave pins of its own behind. */
			ASSERT_TRUE(stat(other_pins, &st) && errno == ENOENT,
				    "the refused daemon left no pin dir");
			{
				char cmd[256];

				snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other_pins);
				if (system(cmd))
					printf("    %s failed\n", cmd);
			}
			ret = txct_daemon_stop(&x);
			ASSERT_EQ(ret, 0, "the first exits cleanly");
		}
		txct_daemon_cleanup(&x);
		test_sub_end();
	}

	if (test_sub_begin("second_daemon_same_pins")) {
		/*
		 * The worst case of a mistaken second start: same socket, same pin dir,
		 * other options.  It must refuse before it touches the first's datapath.
		 */
		if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start the first")) {
			const char *argv[] = {
				txct_daemon_path(), "-s", x.sock, "-d", x.pin_dir, "--mark-mask", "0", NULL,
			};
			struct txc_client *c = NULL;
			__u8 frame[128], prefix = 0;
			__u32 len = udp_frame(frame, sizeof(frame), 4, 1, 2), source = 0;

			if (client_with_leases(&c, x.sock, "client of the first", &prefix,
					       &source) &&
			    ASSERT_OK(txc_tag_mark(c, 0x7, TXC_ID_MAKE(prefix, 1), source),
				      "mark rule")) {
				second_refused(argv, out, sizeof(out));
				rule_kept(c, 0x7, frame, len, TXC_ID_MAKE(prefix, 1),
					  "the first's mark tagging still works (mark mask kept)");
			}
			txc_client_close(c);
			ret = txct_daemon_stop(&x);
			ASSERT_EQ(ret, 0, "the first exits cleanly");
		}
		txct_daemon_cleanup(&x);
		test_sub_end();
	}

	if (test_sub_begin("second_daemon_same_pin_dir")) {
		/*
		 * Another socket but the same pin dir: the second would share the
		 * first's maps and leases.  It must refuse to start, and the first's
		 * clients must keep their rules whatever it does.
		 */
		if (ASSERT_OK(txct_daemon_start(&x, NULL, args), "start the first")) {
			char other_sock[160], maps_dir[192];
			const char *argv[] = {
				txct_daemon_path(), "-s", other_sock, "-d", x.pin_dir, "--grace", "1", NULL,
			};
			struct txc_flow_key k = flow_key(4, 9600, 9601);
			struct txc_client *c = NULL;
			__u8 frame[128], prefix = 0;
			__u32 len = udp_frame(frame, sizeof(frame), 4, 9600, 9601), source = 0;
			int status = 0, waited;
			pid_t pid;

			snprintf(other_sock, sizeof(other_sock), "%s/second.sock", x.dir);
			snprintf(maps_dir, sizeof(maps_dir), "%s/maps", x.pin_dir);
			if (client_with_leases(&c, x.sock, "client of the first", &prefix, &source))
				ASSERT_OK(txc_tag_flow(c, &k, TXC_ID_MAKE(prefix, 1), source),
					  "flow rule");
			fflush(stdout);
			pid = fork();
			if (pid == 0) {
				int null = open("/dev/null", O_WRONLY);

				dup2(null, STDOUT_FILENO);
				dup2(null, STDERR_FILENO);
				execv(argv[0], (char *const *)argv);
				_exit(127);
			}
			/* Long enough for its grace period (1 s) to run out, if it runs. */
			for (waited = 0; waited < 3000 &&
			     waitpid(pid, &status, WNOHANG) == 0; waited += 50)
				test_sleep_ms(50);
			if (!ASSERT_TRUE(waited < 3000 && WIFEXITED(status) &&
					 WEXITSTATUS(status) != 0,
					 "the second daemon refuses to start on a pin dir in use")) {
				if (c)
					rule_kept(c, 0, frame, len, TXC_ID_MAKE(prefix, 1),
						  "while it runs, the first's client keeps its rule");
				kill(pid, SIGTERM);
				waitpid(pid, &status, 0);
			}
			ASSERT_TRUE(!stat(maps_dir, &st), "the first's maps are still pinned");
			if (c)
				rule_kept(c, 0, frame, len, TXC_ID_MAKE(prefix, 1),
					  "the first's client keeps its rule");
			txc_client_close(c);
			txct_daemon_stop(&x);
		}
		txct_daemon_cleanup(&x);
		test_sub_end();
	}

	if (test_sub_begin("per_user_connection_limit")) {
		{
			static const char *const lim[] = { "--max-conns", "2", NULL };

			if (ASSERT_OK(txct_daemon_start(&x, NULL, lim),
				      "start with --max-conns 2")) {
				ASSERT_EQ(txct_run_as(UID_C, UID_C, false, conn_limit_child,
						      x.sock), 0,
					  "a third connection of one user is refused");
				ASSERT_EQ(txct_daemon_stop(&x), 0, "exits cleanly");
			}
			txct_daemon_cleanup(&x);
		}
		test_sub_end();
	}

	if (test_sub_begin("kill_and_restart")) {
		/* A crash leaves socket and pins; a restart takes them over and serves again. */
		if (ASSERT_OK(txct_daemon_start(&y, NULL, args), "start")) {
			struct txc_flow_key k = flow_key(4, 9500, 9501);
			struct txc_client *c = NULL;
			struct txc_prefix_info info[8];
			__u8 prefix = 0;
			__u32 source = 0;

			/* Leases and a rule of a client the crash cuts off. */
			if (client_with_leases(&c, y.sock, "client", &prefix, &source))
				ASSERT_OK(txc_tag_flow(c, &k, TXC_ID_MAKE(prefix, 1), source),
					  "flow rule");
			txct_daemon_kill(&y);
			txc_client_close(c);
			c = NULL;
			ASSERT_TRUE(!stat(y.sock, &st), "socket file left by the crash");
			ASSERT_TRUE(!stat(y.pin_dir, &st), "pins left by the crash");
			if (ASSERT_OK(txct_daemon_restart(&y), "restart") &&
			    ASSERT_OK(txc_client_open(&c, y.sock), "serves again")) {
				int count = txc_prefix_list(c, info, 8);

				/* The cut-off client's prefix waits, orphaned, with its rule. */
				if (ASSERT_EQ(count, 1, "one lease found again")) {
					ASSERT_EQ(info[0].prefix, prefix, "its prefix");
					ASSERT_EQ(info[0].state, TXC_LEASE_ORPHANED, "orphaned");
					ASSERT_EQ(info[0].conn_id, 0, "no connection");
					ASSERT_EQ(info[0].rules, 1, "its rule counted");
				}
				ASSERT_OK(txc_prefix_claim(c, prefix),
					  "claimed back by the same user");
				count = txc_prefix_list(c, info, 8);
				if (ASSERT_EQ(count, 1, "one lease"))
					ASSERT_EQ(info[0].state, TXC_LEASE_HELD, "held again");
				ASSERT_OK(txc_source_claim(c, source), "source claimed back");
				txc_client_close(c);
			}
			ASSERT_EQ(txct_daemon_stop(&y), 0, "exits cleanly");
			ASSERT_TRUE(stat(y.pin_dir, &st) && errno == ENOENT, "pin dir removed");
		}
		txct_daemon_cleanup(&y);
		test_sub_end();
	}
}
