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
/* Socket tags: stored in the socket, gone with it, retired with their lease  */
/* ========================================================================== */

/* Elements of the pinned map @name of the daemon with pin dir @pin_dir (hash maps). */
static int map_count(const char *pin_dir, const char *name, size_t key_size)
{
	char path[256], key[64], next[64];
	void *prev = NULL;
	int fd, n = 0;

	snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	while (key_size <= sizeof(key) && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	close(fd);
	return n;
}

/* Every table a tag could have been left in, summed. */
static int tables_count(const char *pin_dir)
{
	return map_count(pin_dir, "txc_mark_rules", 4) + map_count(pin_dir, "txc_cgroup_rules", 8) +
	       map_count(pin_dir, "txc_flow_rules", sizeof(struct txc_flow_key)) +
	       map_count(pin_dir, "txc_id_cancels", 4) + map_count(pin_dir, "txc_id_stats", 4);
}

/*
 * The tag in force on socket @fd, read as the TC program reads it: the
 * element in the socket, under the current generations of its prefix and
 * source.  False: no tag in force.
 */
static bool sock_tag_in_force(const char *pin_dir, int fd, struct txc_tag *tag)
{
	char path[256];
	struct txc_sk_tag st;
	__u64 pgen = 0, sgen = 0;
	__u32 slot;
	int tags, gens;
	bool ok;

	snprintf(path, sizeof(path), "%s/maps/txc_sk_tags", pin_dir);
	tags = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/maps/txc_lease_gens", pin_dir);
	gens = bpf_obj_get(path);
	ok = tags >= 0 && gens >= 0 && !bpf_map_lookup_elem(tags, &fd, &st) &&
	     TXC_ID_VALID(st.tag.cancel_id) && st.tag.source < TXC_MAX_SOURCES;
	slot = TXC_ID_PREFIX(st.tag.cancel_id);
	ok = ok && !bpf_map_lookup_elem(gens, &slot, &pgen);
	slot = TXC_GEN_SOURCE(st.tag.source);
	ok = ok && !bpf_map_lookup_elem(gens, &slot, &sgen);
	ok = ok && pgen == st.prefix_gen && sgen == st.source_gen;
	if (ok && tag)
		*tag = st.tag;
	if (tags >= 0)
		close(tags);
	if (gens >= 0)
		close(gens);
	return ok;
}

#define SOCKS 200

void test_socket_tags(void)
{
	struct txc_client *c = NULL;
	int socks[SOCKS], before, fds, n;
	struct txc_prefix_info info[8];
	struct txc_tag t;
	__u8 prefix = 0;
	__u32 source = 0;
	__u64 cookie = 0;

	test_subs_chained();	/* the sockets of each subtest are the next one's */
	if (!client_with_leases(&c, dm.sock, "client", &prefix, &source))
		goto out;

	if (test_sub_begin("closed_socket_leaves_nothing")) {
		before = tables_count(dm.pin_dir);
		fds = daemon_fd_count();
		for (int i = 0; i < SOCKS; i++) {
			socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (!ASSERT_GE0(socks[i], "socket") ||
			    !ASSERT_OK(txc_tag_socket(c, socks[i], TXC_ID_MAKE(prefix, i + 1),
						      source, NULL),
				       "tag"))
				break;
		}
		ASSERT_TRUE(sock_tag_in_force(dm.pin_dir, socks[SOCKS - 1], &t) &&
			    t.cancel_id == TXC_ID_MAKE(prefix, SOCKS), "the tag is in the socket");
		ASSERT_EQ(tables_count(dm.pin_dir), before, "no table holds a socket tag");
		n = txc_prefix_list(c, info, 8);
		for (int i = 0; i < n; i++)
			if (info[i].prefix == prefix)
				ASSERT_EQ(info[i].rules, 0,
					  "socket tags are not rules counted against the user");
		ASSERT_EQ(daemon_fd_count(), fds, "the daemon keeps no socket open");
		for (int i = 0; i < SOCKS; i++)
			close(socks[i]);
		/* The same fd numbers, new sockets: nothing of the old tags reaches them. */
		for (int i = 0; i < SOCKS; i++)
			socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		for (int i = 0; i < SOCKS; i++)
			if (!ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[i], NULL),
					 "a new socket on a tagged socket's fd number is untagged"))
				break;
		ASSERT_EQ(tables_count(dm.pin_dir), before, "nothing left in any table");
		test_sub_end();
	}

	if (test_sub_begin("tag_twice_untag")) {
		ASSERT_OK(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 1), source, &cookie),
			  "tag");
		ASSERT_EQ(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 2), source, NULL),
			  -EEXIST,
			  "a tagged socket keeps its one tag");
		ASSERT_TRUE(sock_tag_in_force(dm.pin_dir, socks[0], &t) &&
			    t.cancel_id == TXC_ID_MAKE(prefix, 1), "the first tag stays");
		ASSERT_OK(txc_untag(c, TXC_TAG_SOCKET,
				    &(union txc_tag_key){ .socket_cookie = cookie }),
			  "untag by cookie (the library passes the socket)");
		ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL), "untagged");
		ASSERT_OK(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 3), source, NULL),
			  "tag again");
		ASSERT_OK(txc_untag_socket(c, socks[0]), "untag through the socket");
		ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL), "untagged again");
		ASSERT_EQ(txc_untag_socket(c, socks[0]), -ENOENT,
			  "an untagged socket has no tag to remove");
		test_sub_end();
	}

	if (test_sub_begin("source_close_untags_at_once")) {
		for (int i = 0; i < SOCKS; i++)
			if (!ASSERT_OK(txc_tag_socket(c, socks[i], TXC_ID_MAKE(prefix, i + 1),
						      source, NULL),
				       "tag"))
				break;
		ASSERT_OK(txc_source_close(c, source), "source closed");
		/* No wait: the reply means every tag of the source is out of force. */
		for (int i = 0; i < SOCKS; i++)
			if (!ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[i], NULL),
					 "untagged when the source's close is answered"))
				break;
		if (ASSERT_OK(txc_source_open(c, &source),
			      "a source again (maybe the same number)"))
			ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL),
				    "a reopened source number does not revive old tags");
		ASSERT_OK(txc_tag_socket(c, socks[0], TXC_ID_MAKE(prefix, 1), source, NULL),
			  "a socket of a closed source can be tagged again");
		test_sub_end();
	}

	if (test_sub_begin("prefix_free_untags_at_once")) {
		ASSERT_TRUE(sock_tag_in_force(dm.pin_dir, socks[0], NULL), "tagged");
		ASSERT_OK(txc_prefix_free(c, prefix), "prefix freed");
		ASSERT_TRUE(!sock_tag_in_force(dm.pin_dir, socks[0], NULL),
			    "untagged when the prefix's release is answered");
		test_sub_end();
	}
	for (int i = 0; i < SOCKS; i++)
		close(socks[i]);
out:
	txc_client_close(c);
}

/* A restart, crash or not, keeps the tags of sockets that stay open. */
void test_socket_tags_restart(void)
{
	static const char *const args[] = { "--grace", "30", NULL };
	struct txct_daemon y;
	struct txc_client *c = NULL;
	struct txc_tag t;
	__u8 prefix = 0;
	__u32 source = 0;
	int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (test_sub_begin("restart_keeps_socket_tags")) {
		if (ASSERT_GE0(udp, "socket") &&
		    ASSERT_OK(txct_daemon_start(&y, NULL, args), "start")) {
			if (client_with_leases(&c, y.sock, "client", &prefix, &source))
				ASSERT_OK(txc_tag_socket(c, udp, TXC_ID_MAKE(prefix, 7), source,
							 NULL), "tag");
			txct_daemon_kill(&y);
			ASSERT_TRUE(sock_tag_in_force(y.pin_dir, udp, &t),
				    "in force while no daemon runs");
			txc_client_close(c);
			c = NULL;
			if (ASSERT_OK(txct_daemon_restart(&y), "restart") &&
			    ASSERT_OK(txc_client_open(&c, y.sock), "serves again")) {
				ASSERT_TRUE(sock_tag_in_force(y.pin_dir, udp, &t) &&
					    t.cancel_id == TXC_ID_MAKE(prefix,
								       7) && t.source == source,
					    "the orphaned leases keep the socket's tag");
				ASSERT_OK(txc_prefix_claim(c, prefix), "prefix claimed back");
				ASSERT_OK(txc_source_claim(c, source), "source claimed back");
				ASSERT_TRUE(sock_tag_in_force(y.pin_dir, udp, NULL),
					    "still tagged once claimed");
				ASSERT_OK(txc_untag_socket(c, udp), "untagged by the new instance");
				ASSERT_TRUE(!sock_tag_in_force(y.pin_dir, udp, NULL), "untagged");
				txc_client_close(c);
			}
			ASSERT_EQ(txct_daemon_stop(&y), 0, "exits cleanly");
		}
		txct_daemon_cleanup(&y);
		if (udp >= 0)
			close(udp);
		test_sub_end();
	}
}
