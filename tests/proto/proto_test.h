/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* test_proto's parts: the daemon and clients they share, and their tests. */
#ifndef TXC_TEST_PROTO_TEST_H
#define TXC_TEST_PROTO_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include "txcancel/txcancel.h"
#include "daemon_fixture.h"
#include "proto_peer.h"

#ifndef SO_COOKIE
#define SO_COOKIE	57
#endif

#define OFF(t, f)	((__u32)offsetof(t, f))

/* The main daemon's options: small per-user limits so that they can be reached. */
#define MARK_MASK	0xffffu
#define MAX_PREFIXES	2
#define MAX_RULES	3

/* Users of the permission and limit tests; they need no passwd entry. */
#define UID_A		61001	/* CAP_NET_ADMIN */
#define UID_B		61002	/* one connection without, one with CAP_NET_ADMIN */
#define UID_C		61003	/* prefix quota */
#define UID_D		61004	/* rule quota */

/* A reply that must be a success, or the refusal that names @word and @field. */
#define OK(n, r, what)	reply_ok_at(__FILE__, __LINE__, n, r, what)
#define ERR(n, r, errnum, word, field, what) \
	reply_err_at(__FILE__, __LINE__, n, r, errnum, word, field, what)

extern struct txct_daemon dm;		/* the daemon every test but lifecycle talks to */
extern struct peer root;		/* a root client for the success cases */
extern struct peer by;			/* the bystander */
extern __u32 by_prefix, by_source;
extern struct reply rep, rep2;		/* big: kept out of the stack */
extern struct msg req;

void addr_of(int family, const char *text, __u8 out[16]);

struct txc_flow_key flow_key(int family, __u16 sport, __u16 dport);

/* An Ethernet + IPv4/IPv6 + UDP frame with 16 bytes of payload matching flow_key(). */
__u32 udp_frame(__u8 *f, size_t size, int family, __u16 sport, __u16 dport);

int peer_open_raw(struct peer *p);

int call_fd(struct peer *p, __u8 type, const void *body, size_t len, int fd,
	    struct reply *r);

int call(struct peer *p, __u8 type, const void *body, size_t len, struct reply *r);

int hello(struct peer *p, struct reply *r);

/* A BATCH of the @count ops at @ops. */
int batch_call(struct peer *p, const struct txc_batch_op *ops, __u32 count, struct reply *r);

__u32 prefix_alloc(struct peer *p, __u32 want);

__u32 source_open(struct peer *p);

struct txc_req_tag tag_req(__u8 kind, __u32 id, __u32 source);

int tag_flow(struct peer *p, const struct txc_flow_key *k, __u32 id, __u32 source,
	     struct reply *r);

/* The fd of this process's socket with @cookie, or -1 (a socket's tag is reached through it). */
int socket_of(__u64 cookie);

/* A socket is untagged through the socket: it goes along (SCM_RIGHTS) with its cookie. */
int untag(struct peer *p, __u8 kind, const union txc_tag_key *key, struct reply *r);

int cancel(struct peer *p, __u8 scope, __u32 value, __u64 timeout_ns, struct reply *r);

int clear(struct peer *p, __u8 scope, __u32 value, struct reply *r);

int count_id(struct peer *p, __u32 id, __u32 enable, struct reply *r);

int stats(struct peer *p, __u8 scope, __u32 value, struct reply *r);

int explain(struct peer *p, const void *frame, __u32 len, __u32 mark, struct reply *r);

/* EXPLAIN a flow frame and check what the program decides. */
bool explain_is(struct peer *p, int family, __u16 sport, __u16 dport, __u32 mark,
		__u32 id, __u32 source, __u8 kind, __u8 verdict, __u8 scope,
		const char *what);

/* The entry of @prefix in a PREFIX_LIST reply, or NULL. */
const struct txc_prefix_info *list_find(const struct reply *r, __u32 prefix);

bool prefix_listed(struct peer *p, __u32 prefix);

__u64 now_ns(void);

int map_fd(const char *name);

void maps_close(void);

/*
 * Whether the socket with @cookie (one of this process's) holds a tag in
 * force: stored in it, under the current generation of its prefix and source.
 */
bool socket_tag_get(__u64 cookie, struct txc_tag *tag);

/* Whether the rule table of @kind has @key; *tag gets its value. */
bool rule_get(__u8 kind, const void *key, struct txc_tag *tag);

bool rule_is(__u8 kind, const void *key, __u32 id, __u32 source, const char *what);

/* The cancel element of @scope/@value if it is in force. */
bool cancel_active(__u8 scope, __u32 value, struct txc_cancel *out);

bool id_counted(__u32 id);

/*
 * Once the daemon is done making the rings it keeps ready after opens.  A
 * failed read fails here: two of them would compare equal.
 */
int daemon_fd_count(void);

/* @p still gets answers, and the bystander still holds what it held. */
bool still_serving(struct peer *p);

/* A raw client's first words: learn its connection id. */
bool peer_hello(struct peer *p);

int peer_open_lib(struct peer *p);

/* A libtxcancel client of the daemon at @sock holding a prefix and a source. */
bool client_with_leases(struct txc_client **c, const char *sock, const char *what,
			__u8 *prefix, __u32 *source);

void test_requests(void);
void test_validation(void);
void test_permissions(void);
void test_leases(void);
void test_async(void);
void test_socket_tags(void);
void test_socket_tags_restart(void);
void test_lifecycle(void);

#endif
