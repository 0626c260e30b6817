// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * One handler per request type.  Requests reach here structurally valid
 * (proto_check.c); the handlers check what depends on the daemon's state:
 * who holds the prefix or source, limits, interfaces, existing rules.
 *
 * Tag, cancel and clear have a check step and an apply step, so that a
 * batch can check every op, permissions included, before applying any.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include "txcanceld.h"
#include "proto_check.h"
#include "rules.h"
#include "qdisc.h"

#define OFF(type, field)	((__u32)__builtin_offsetof(type, field))
#define COUNT_ID_RETRIES	50	/* 1 ms apart: as long as the loader would wait */
#define HDR			((__u32)sizeof(struct txc_msg_hdr))

static size_t reply_ok(void *reply, const struct txc_msg_hdr *req, size_t body_len)
{
	struct txc_msg_hdr *h = reply;

	*h = (struct txc_msg_hdr){
		.magic = TXC_PROTO_MAGIC,
		.version = TXC_PROTO_VERSION,
		.type = req->type,
		.flags = TXC_MSG_F_REPLY,
		.length = sizeof(*h) + body_len,
		.seq = req->seq,
	};
	return h->length;
}

static size_t reply_err(void *reply, const struct txc_msg_hdr *req, int errnum,
			const struct txc_rep_error *err)
{
	struct txc_msg_hdr *h = reply;
	size_t len = reply_ok(reply, req, sizeof(*err));

	h->error = errnum;
	memcpy(h + 1, err, sizeof(*err));
	return len;
}

static void *body_of(void *reply)
{
	return (__u8 *)reply + HDR;
}

/* --- permissions ---------------------------------------------------------- */

static int need_prefix(struct txcd *d, struct txcd_conn *c, __u32 prefix, __u32 field,
		       const char *what, struct txc_rep_error *err)
{
	const struct txcd_prefix *p = &d->prefixes[prefix & 0xff];

	if (txcd_may_prefix(d, c, prefix))
		return 0;
	if (p->state == TXCD_FREE)
		return txcd_error(err, -EPERM, field, "%s is under prefix %u, which nobody holds: "
				  "allocate a prefix first", what, prefix);
	if (p->state == TXCD_RELEASING)
		return txcd_error(err, -EPERM, field, "%s is under prefix %u, which is being "
				  "released", what, prefix);
	return txcd_error(err, -EPERM, field, "%s is under prefix %u, held by another user",
			  what, prefix);
}

static int need_source(struct txcd *d, struct txcd_conn *c, __u32 source, __u32 field,
		       struct txc_rep_error *err)
{
	if (txcd_may_source(d, c, source))
		return 0;
	if (d->sources[source].state == TXCD_FREE || d->sources[source].state == TXCD_RELEASING)
		return txcd_error(err, -ENOENT, field, "source %u is not open", source);
	return txcd_error(err, -EPERM, field, "source %u belongs to another user", source);
}

/* The prefix/source a scoped cancel or clear acts on must be the caller's. */
static int need_scope(struct txcd *d, struct txcd_conn *c, __u8 scope, __u32 value,
		      __u32 field, struct txc_rep_error *err)
{
	char what[48];

	switch (scope) {
	case TXC_SCOPE_ID:
		if (!TXC_ID_VALID(value))
			return txcd_error(err, -EINVAL, field, "cancel ID 0x%08x has prefix 0: "
					  "ID 0 and prefix 0 mean untagged", value);
		snprintf(what, sizeof(what), "cancel ID 0x%08x", value);
		return need_prefix(d, c, TXC_ID_PREFIX(value), field, what, err);
	case TXC_SCOPE_PREFIX:
		if (value < TXC_PREFIX_MIN || value > TXC_PREFIX_MAX)
			return txcd_error(err, -EINVAL, field, "prefix %u: must be 1..255", value);
		if (txcd_may_prefix(d, c, value))
			return 0;
		return txcd_error(err, -EPERM, field, "prefix %u is not held by you", value);
	default:
		if (value == TXC_SOURCE_NONE || value >= TXC_MAX_SOURCES)
			return txcd_error(err, -EINVAL, field, "source %u: must be 1..%u", value,
					  TXC_MAX_SOURCES - 1);
		return need_source(d, c, value, field, err);
	}
}

/* --- tags ----------------------------------------------------------------- */

static int socket_cookie(int fd, __u64 *cookie, struct txc_rep_error *err)
{
	socklen_t len;
	int domain, listening;
	struct stat st;

	if (fd < 0)
		return txcd_error(err, -EBADF, TXC_FIELD_NONE, "socket tag without a socket: pass "
				  "it with SCM_RIGHTS");
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode))
		return txcd_error(err, -ENOTSOCK, TXC_FIELD_NONE, "the descriptor passed is not a "
				  "socket");
	/*
	 * Only what sends through a network interface can ever match: a rule
	 * on a Unix or netlink socket, or on a listener, would be taken and
	 * counted against the user's rules while tagging nothing.
	 */
	len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len))
		return txcd_error(err, -errno, TXC_FIELD_NONE, "reading the socket's family: %s",
				  strerror(errno));
	if (domain != AF_INET && domain != AF_INET6 && domain != AF_PACKET)
		return txcd_error(err, -EAFNOSUPPORT, TXC_FIELD_NONE, "the socket passed is of "
				  "family %d (%s), which sends nothing through an interface: pass an "
				  "AF_INET, AF_INET6 or AF_PACKET socket", domain,
				  domain == AF_UNIX ? "AF_UNIX" : domain == AF_NETLINK ?
				  "AF_NETLINK" : "not IP");
	len = sizeof(listening);
	if (!getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) && listening)
		return txcd_error(err, -EINVAL, TXC_FIELD_NONE, "the socket passed is listening: "
				  "it sends no data of its own; tag each accepted connection");
	len = sizeof(*cookie);
	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len))
		return txcd_error(err, -errno, TXC_FIELD_NONE, "reading the socket's cookie: %s",
				  strerror(errno));
	return 0;
}

/*
 * @key gets the table key; for sockets it is resolved from @fd.  @pending is
 * how many rules the same batch adds before this one.
 */
static int check_tag_add(struct txcd *d, struct txcd_conn *c, const struct txc_req_tag *t,
			 size_t off, int fd, __u32 pending, union txc_tag_key *key,
			 struct txc_rep_error *err)
{
	struct txc_tag old;
	char what[48];
	int ret;

	*key = t->key;
	if (t->kind != TXC_TAG_SOCKET && fd >= 0)
		return txcd_error(err, -EINVAL, TXC_FIELD_NONE,
				  "only socket tags take a file descriptor");
	if (t->kind != TXC_TAG_SOCKET && !c->net_admin)
		return txcd_error(err, -EPERM, off + OFF(struct txc_req_tag, kind),
				  "tagging by mark, cgroup or flow classifies other programs' "
				  "traffic and needs CAP_NET_ADMIN; tag your own socket instead");
	snprintf(what, sizeof(what), "cancel ID 0x%08x", t->cancel_id);
	ret = need_prefix(d, c, TXC_ID_PREFIX(t->cancel_id),
			  off + OFF(struct txc_req_tag, cancel_id), what, err);
	if (!ret)
		ret = need_source(d, c, t->source, off + OFF(struct txc_req_tag, source), err);
	if (ret)
		return ret;
	if (t->kind == TXC_TAG_MARK) {
		if (!d->opts.mark_mask)
			return txcd_error(err, -EOPNOTSUPP, off + OFF(struct txc_req_tag, key),
					  "mark tagging is off: start txcanceld with --mark-mask");
		if (t->key.mark & ~d->opts.mark_mask)
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key),
					  "mark 0x%x has bits outside the mark mask 0x%x",
					  t->key.mark, d->opts.mark_mask);
	}
	if (t->kind == TXC_TAG_SOCKET) {
		struct txc_sk_tag st;

		ret = socket_cookie(fd, &key->socket_cookie, err);
		if (ret)
			return ret;
		/*
		 * The tag lives in the socket and dies with it: no per-user
		 * table to bound, since no closed socket can be left in one.
		 */
		if (!txc_dp_sock_get(d->dp, fd, &st))
			return txcd_error(err, -EEXIST, TXC_FIELD_NONE,
					  "the socket is tagged already (ID 0x%08x%s): untag it first",
					  st.tag.cancel_id,
					  txcd_may_prefix(d, c, TXC_ID_PREFIX(st.tag.cancel_id)) ?
					  "" : ", another user's");
		return 0;
	}
	if (!txcd_rule_get(d->dp, t->kind, key, &old))
		return txcd_error(err, -EEXIST, off + OFF(struct txc_req_tag, key),
				  "a %s rule for this key exists (ID 0x%08x%s): remove it first",
				  txcd_rule_table_of(t->kind)->name, old.cancel_id,
				  txcd_may_prefix(d, c, TXC_ID_PREFIX(old.cancel_id)) ? "" :
				  ", another user's");
	if (c->uid != 0 && c->user->rules + pending >= d->opts.max_rules)
		return txcd_error(err, -EDQUOT, TXC_FIELD_NONE,
				  "uid %u has %u tag rules%s, the per-user limit is %u", c->uid,
				  c->user->rules, pending ? " plus those earlier in the batch" : "",
				  d->opts.max_rules);
	return 0;
}

/* @fd is the socket of a socket tag (still open), else -1. */
static int apply_tag_add(struct txcd *d, const struct txc_req_tag *t,
			 const union txc_tag_key *key, int fd, struct txc_rep_error *err)
{
	struct txc_tag tag = { .cancel_id = t->cancel_id, .source = t->source };
	int ret = t->kind == TXC_TAG_SOCKET ? txc_dp_sock_tag(d->dp, fd, &tag) :
		  txc_dp_tag_add(d->dp, t->kind, key, &tag);

	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "storing the %s rule: %s",
				  txcd_rule_table_of(t->kind)->name, strerror(-ret));
	/* Socket tags live in their sockets: no rule table, no index entry. */
	if (t->kind != TXC_TAG_SOCKET)
		txcd_rule_added(d, t->kind, key, &tag);
	return 0;
}

/* @fd: the socket of a socket untag, else -1. */
static int check_tag_del(struct txcd *d, struct txcd_conn *c, const struct txc_req_tag *t,
			 size_t off, int fd, struct txc_rep_error *err)
{
	struct txc_sk_tag st;
	struct txc_tag old;
	char what[64];

	if (t->kind == TXC_TAG_SOCKET) {
		__u64 cookie;
		int ret = socket_cookie(fd, &cookie, err);

		if (ret)
			return ret;
		if (t->key.socket_cookie && t->key.socket_cookie != cookie)
			return txcd_error(err, -EINVAL, off + OFF(struct txc_req_tag, key),
					  "the socket passed has cookie %llu, not %llu",
					  (unsigned long long)cookie,
					  (unsigned long long)t->key.socket_cookie);
		if (txc_dp_sock_get(d->dp, fd, &st))
			return txcd_error(err, -ENOENT, off + OFF(struct txc_req_tag, key),
					  "the socket passed has no tag");
		old = st.tag;
	} else if (txcd_rule_get(d->dp, t->kind, &t->key, &old)) {
		return txcd_error(err, -ENOENT, off + OFF(struct txc_req_tag, key),
				  "no %s rule with this key", txcd_rule_table_of(t->kind)->name);
	}
	snprintf(what, sizeof(what), "the rule's cancel ID 0x%08x", old.cancel_id);
	return need_prefix(d, c, TXC_ID_PREFIX(old.cancel_id),
			   off + OFF(struct txc_req_tag, key), what, err);
}

static int apply_tag_del(struct txcd *d, const struct txc_req_tag *t, int fd,
			 struct txc_rep_error *err)
{
	struct txc_tag old;
	int ret;

	if (t->kind == TXC_TAG_SOCKET) {
		ret = txc_dp_sock_untag(d->dp, fd);
		if (ret)
			return txcd_error(err, ret, TXC_FIELD_NONE, "removing the socket's tag: %s",
					  strerror(-ret));
		return 0;
	}
	if (txcd_rule_get(d->dp, t->kind, &t->key, &old))
		return txcd_error(err, -ENOENT, TXC_FIELD_NONE, "the rule is gone");
	ret = txc_dp_tag_del(d->dp, t->kind, &t->key);
	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "removing the rule: %s",
				  strerror(-ret));
	txcd_rule_removed(d, t->kind, &t->key, &old);
	return 0;
}

/* --- cancel and clear ----------------------------------------------------- */

static int check_cancel(struct txcd *d, struct txcd_conn *c, const struct txc_req_cancel *r,
			size_t off, __u32 *ifindex, struct txc_rep_error *err)
{
	int ret = need_scope(d, c, r->scope, r->value, off + OFF(struct txc_req_cancel, value),
			     err);
	struct txcd_iface *iface;

	*ifindex = 0;
	if (ret || !r->ifname[0])
		return ret;
	iface = txcd_iface_by_name(d, r->ifname);
	if (!iface)
		return txcd_error(err, -ENODEV, off + OFF(struct txc_req_cancel, ifname),
				  "interface %s is not managed by txcanceld", r->ifname);
	if (!iface->ifindex || !iface->attached)
		return txcd_error(err, -ENODEV, off + OFF(struct txc_req_cancel, ifname),
				  "interface %s is managed but absent now", r->ifname);
	*ifindex = iface->ifindex;
	return 0;
}

static int apply_cancel(struct txcd *d, const struct txc_req_cancel *r, __u32 ifindex,
			__u64 *since, struct txc_rep_error *err)
{
	__u64 expires = r->timeout_ns ? txcd_now_ns() + r->timeout_ns : 0;
	int ret;

	/* Indexed first: an entry without a cancel is harmless, the reverse is not. */
	if (r->scope == TXC_SCOPE_ID) {
		txcd_prefix_ids_used(d, TXC_ID_PREFIX(r->value), false);
		txcd_cancelindex_add(d, r->value);
	}
	ret = txc_dp_cancel(d->dp, r->scope, r->value, ifindex, expires);

	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "storing the cancel: %s",
				  strerror(-ret));
	*since = txcd_now_ns();
	return 0;
}

static void add_counts(struct txc_counters *sum, const struct txc_id_stats *s)
{
	sum->passed_frames += s->passed_frames;
	sum->passed_bytes += s->passed_bytes;
	sum->aborted_frames += s->aborted_frames;
	sum->aborted_bytes += s->aborted_bytes;
}

/* Final counts for CLEAR: see struct txc_rep_clear. */
static void final_counts(struct txcd *d, __u8 scope, __u32 value, struct txc_rep_clear *out)
{
	memset(out, 0, sizeof(*out));
	if (scope == TXC_SCOPE_SOURCE) {
		struct txc_source_stats st;

		if (!txc_dp_source_stats(d->dp, value, &st)) {
			out->valid = 1;
			out->counts = (struct txc_counters){
				st.passed_frames, st.passed_bytes,
				st.aborted_frames, st.aborted_bytes,
			};
		}
	} else if (!txc_dp_lookup_on(d->dp, TXC_LOOKUP_ID_STATS)) {
		/* No ID is counted (the bit is set while any is): nothing to look up. */
		return;
	} else if (scope == TXC_SCOPE_ID) {
		struct txc_id_stats st;

		if (!txc_dp_id_counters(d->dp, value, &st)) {
			out->valid = 1;
			add_counts(&out->counts, &st);
		}
	} else if (d->prefixes[value & 0xff].ids_counted) {
		int fd = txc_dp_map_fd(d->dp, TXC_MAP_ID_STATS);
		__u32 id, *prev = NULL;

		while (!bpf_map_get_next_key(fd, prev, &id)) {
			struct txc_id_stats st;

			prev = &id;
			if (TXC_ID_PREFIX(id) == value && !txc_dp_id_counters(d->dp, id, &st)) {
				out->valid = 1;
				add_counts(&out->counts, &st);
			}
		}
	}
}

static int apply_clear(struct txcd *d, const struct txc_req_clear *r, struct txc_rep_clear *out,
		       struct txc_rep_error *err)
{
	int ret = txc_dp_clear(d->dp, r->scope, r->value);

	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "clearing the cancel: %s",
				  strerror(-ret));
	if (r->scope == TXC_SCOPE_ID)
		txcd_cancelindex_del(d, r->value);
	if (out)
		final_counts(d, r->scope, r->value, out);
	return 0;
}

/* --- batch ---------------------------------------------------------------- */

/*
 * Ops are checked against the state before the batch, so two adds of one key
 * in the same batch would both pass: refuse the second here.
 */
static int check_batch_duplicate(const struct txc_batch_op *ops, __u32 i, size_t off,
				 struct txc_rep_error *err)
{
	for (__u32 j = 0; j < i; j++)
		if (ops[j].type == TXC_MSG_TAG_ADD && ops[j].tag.kind == ops[i].tag.kind &&
		    !memcmp(&ops[j].tag.key, &ops[i].tag.key, sizeof(ops[i].tag.key)))
			return txcd_error(err, -EEXIST, off + OFF(struct txc_req_tag, key),
					  "a %s rule for this key exists already in op %u of this batch",
					  txcd_rule_table_of(ops[i].tag.kind)->name, j);
	return 0;
}

/*
 * Consecutive ID cancels on every interface, or consecutive ID clears, go to
 * the map in one batch call each: a batch of 1,000 cancels is then a few
 * system calls, not 2,000.  Runs keep the batch's order.
 */
struct id_run {
	__u8 type;		/* TXC_MSG_CANCEL or TXC_MSG_CLEAR; 0: empty */
	__u32 first;		/* index of the run's first op */
	__u32 n;
	__u32 ids[TXC_BATCH_MAX];
	__u64 expires_ns[TXC_BATCH_MAX];
};

static bool id_run_takes(const struct id_run *run, const struct txc_batch_op *op)
{
	bool fits;

	if (op->type == TXC_MSG_CANCEL)
		fits = op->cancel.scope == TXC_SCOPE_ID && !op->cancel.ifname[0];
	else if (op->type == TXC_MSG_CLEAR)
		fits = op->clear.scope == TXC_SCOPE_ID;
	else
		fits = false;
	return fits && (!run->n || run->type == op->type);
}

static void id_run_add(struct id_run *run, __u32 index, const struct txc_batch_op *op)
{
	if (!run->n) {
		run->type = op->type;
		run->first = index;
	}
	if (op->type == TXC_MSG_CANCEL) {
		run->ids[run->n] = op->cancel.value;
		run->expires_ns[run->n] = op->cancel.timeout_ns ?
					  txcd_now_ns() + op->cancel.timeout_ns : 0;
	} else {
		run->ids[run->n] = op->clear.value;
	}
	run->n++;
}

static int id_run_flush(struct txcd *d, struct id_run *run, struct txc_rep_batch *rep)
{
	__u32 done = 0;
	int ret;

	if (!run->n)
		return 0;
	/* Indexed first, as a single cancel (apply_cancel). */
	if (run->type == TXC_MSG_CANCEL)
		for (__u32 i = 0; i < run->n; i++) {
			txcd_prefix_ids_used(d, TXC_ID_PREFIX(run->ids[i]), false);
			txcd_cancelindex_add(d, run->ids[i]);
		}
	if (run->type == TXC_MSG_CANCEL)
		ret = txc_dp_cancel_ids(d->dp, run->ids, run->expires_ns, run->n, &done);
	else
		ret = txc_dp_clear_ids(d->dp, run->ids, run->n, &done);
	rep->applied += done;
	/* Which clears went is known only when all did. */
	for (__u32 i = 0; run->type == TXC_MSG_CLEAR && !ret && i < run->n; i++)
		txcd_cancelindex_del(d, run->ids[i]);
	if (ret) {
		rep->failed = run->first + done;
		txcd_error(&rep->error, ret, TXC_FIELD_NONE, "%s the cancel of 0x%08x: %s",
			   run->type == TXC_MSG_CANCEL ? "storing" : "clearing",
			   run->ids[done < run->n ? done : 0], strerror(-ret));
	}
	run->n = 0;
	return ret;
}

static size_t do_batch(struct txcd *d, struct txcd_conn *c, const __u8 *req, void *reply)
{
	static struct id_run run;	/* 12 KiB: one batch at a time, one thread */
	const struct txc_msg_hdr *h = (const void *)req;
	const struct txc_req_batch *b = (const void *)(req + HDR);
	const struct txc_batch_op *ops = (const void *)(b + 1);
	struct txc_rep_batch *rep = body_of(reply);
	union txc_tag_key key;
	__u32 ifindex, pending = 0;
	__u64 since;
	int ret = 0;
	__u32 i;

	memset(rep, 0, sizeof(*rep));
	rep->failed = TXC_FIELD_NONE;
	for (i = 0; i < b->count && !ret; i++) {
		size_t off = HDR + sizeof(*b) + i * sizeof(*ops) + OFF(struct txc_batch_op, raw);

		switch (ops[i].type) {
		case TXC_MSG_TAG_ADD:
			ret = check_tag_add(d, c, &ops[i].tag, off, -1, pending++, &key,
					    &rep->error);
			if (!ret)
				ret = check_batch_duplicate(ops, i, off, &rep->error);
			break;
		case TXC_MSG_TAG_DEL:
			ret = check_tag_del(d, c, &ops[i].tag, off, -1, &rep->error);
			break;
		case TXC_MSG_CANCEL:
			ret = check_cancel(d, c, &ops[i].cancel, off, &ifindex, &rep->error);
			break;
		default:
			ret = need_scope(d, c, ops[i].clear.scope, ops[i].clear.value,
					 off + OFF(struct txc_req_clear, value), &rep->error);
			break;
		}
	}
	if (ret) {
		rep->failed = i - 1;
		goto out;
	}
	for (i = 0; i < b->count && !ret; i++) {
		if (id_run_takes(&run, &ops[i])) {
			id_run_add(&run, i, &ops[i]);
			continue;
		}
		ret = id_run_flush(d, &run, rep);
		if (ret)
			break;
		switch (ops[i].type) {
		case TXC_MSG_TAG_ADD:
			ret = apply_tag_add(d, &ops[i].tag, &ops[i].tag.key, -1, &rep->error);
			break;
		case TXC_MSG_TAG_DEL:
			ret = apply_tag_del(d, &ops[i].tag, -1, &rep->error);
			break;
		case TXC_MSG_CANCEL:
			check_cancel(d, c, &ops[i].cancel, 0, &ifindex, &rep->error);
			ret = apply_cancel(d, &ops[i].cancel, ifindex, &since, &rep->error);
			break;
		default:
			ret = apply_clear(d, &ops[i].clear, NULL, &rep->error);
			break;
		}
		if (ret)
			rep->failed = i;
		else
			rep->applied++;
	}
	if (!ret)
		ret = id_run_flush(d, &run, rep);
out:
	reply_ok(reply, h, sizeof(*rep));
	((struct txc_msg_hdr *)reply)->error = ret;
	return HDR + sizeof(*rep);
}

/* --- lists ---------------------------------------------------------------- */

#define LIST_ROOM(entry)	((TXC_MSG_MAX - HDR - sizeof(struct txc_rep_list)) / sizeof(entry))

static size_t do_prefix_list(struct txcd *d, struct txcd_conn *c, const struct txc_msg_hdr *h,
			     void *reply)
{
	struct txc_rep_list *list = body_of(reply);
	struct txc_prefix_info *e = (void *)(list + 1);
	__u32 n = 0;

	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++) {
		const struct txcd_prefix *pr = &d->prefixes[p];

		if (!txcd_may_prefix(d, c, p))
			continue;
		e[n++] = (struct txc_prefix_info){
			.prefix = p,
			.state = pr->state,
			.uid = pr->uid,
			.conn_id = pr->state == TXCD_HELD ? pr->conn->id : 0,
			.rules = pr->rules,
		};
	}
	*list = (struct txc_rep_list){ .count = n };
	return reply_ok(reply, h, sizeof(*list) + n * sizeof(*e));
}

static void source_entry(struct txcd *d, __u32 s, struct txc_stats_entry *e)
{
	const struct txcd_source *src = &d->sources[s];
	struct txc_source_stats st;

	memset(e, 0, sizeof(*e));
	e->scope = TXC_SCOPE_SOURCE;
	e->value = s;
	e->uid = src->uid;
	if (!txc_dp_source_stats(d->dp, s, &st)) {
		e->counts = (struct txc_counters){
			st.passed_frames, st.passed_bytes, st.aborted_frames, st.aborted_bytes,
		};
		e->ring_lost = st.lost_reports;
	}
	/* The owner's account: it alone is kept across restarts. */
	e->delivered = src->acct.delivered;
	e->backlog_lost = src->acct.backlog_lost;
	for (const struct txcd_sub *sub = src->subs; sub; sub = sub->next_in_source)
		e->subscribers++;
}

static bool id_entry(struct txcd *d, __u32 id, struct txc_stats_entry *e)
{
	struct txc_id_stats st;

	if (txc_dp_id_counters(d->dp, id, &st))
		return false;
	memset(e, 0, sizeof(*e));
	e->scope = TXC_SCOPE_ID;
	e->value = id;
	e->uid = d->prefixes[TXC_ID_PREFIX(id)].uid;
	add_counts(&e->counts, &st);
	return true;
}

static size_t do_stats(struct txcd *d, struct txcd_conn *c, const __u8 *req, void *reply)
{
	const struct txc_msg_hdr *h = (const void *)req;
	const struct txc_req_stats *r = (const void *)(req + HDR);
	struct txc_rep_list *list = body_of(reply);
	struct txc_stats_entry *e = (void *)(list + 1);
	struct txc_rep_error err;
	__u32 n = 0, room = LIST_ROOM(*e);
	int ret;

	if (r->value) {
		ret = need_scope(d, c, r->scope, r->value, HDR + OFF(struct txc_req_stats, value),
				 &err);
		if (ret)
			return reply_err(reply, h, ret, &err);
		if (r->scope == TXC_SCOPE_SOURCE)
			source_entry(d, r->value, &e[n++]);
		else if (id_entry(d, r->value, &e[n]))
			n++;
		else
			return reply_err(reply, h, -ENOENT, (txcd_error(&err, -ENOENT,
					 HDR + OFF(struct txc_req_stats, value),
					 "cancel ID 0x%08x is not counted: start with COUNT_ID",
					 r->value), &err));
	} else if (r->scope == TXC_SCOPE_SOURCE) {
		for (__u32 s = 1; s < TXC_MAX_SOURCES && n < room; s++)
			if (txcd_may_source(d, c, s))
				source_entry(d, s, &e[n++]);
	} else {
		int fd = txc_dp_map_fd(d->dp, TXC_MAP_ID_STATS);
		__u32 id, *prev = NULL;

		while (n < room && !bpf_map_get_next_key(fd, prev, &id)) {
			prev = &id;
			if (txcd_may_prefix(d, c, TXC_ID_PREFIX(id)) && id_entry(d, id, &e[n]))
				n++;
		}
	}
	*list = (struct txc_rep_list){ .count = n };
	return reply_ok(reply, h, sizeof(*list) + n * sizeof(*e));
}

static size_t do_status(struct txcd *d, const struct txc_msg_hdr *h, void *reply)
{
	struct txc_rep_status *st = body_of(reply);
	struct txc_status_iface *fi = (void *)(st + 1);
	struct txc_status_client *fc;
	__u32 n_clients = 0, room;

	memset(st, 0, sizeof(*st));
	st->pid = getpid();
	st->mark_mask = d->opts.mark_mask;
	st->uptime_ns = txcd_now_ns() - d->start_ns;
	snprintf(st->pin_dir, sizeof(st->pin_dir), "%s", txc_dp_pin_dir(d->dp));
	snprintf(st->socket_path, sizeof(st->socket_path), "%s", d->opts.socket_path);
	for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
		st->n_prefixes += d->prefixes[p].state != TXCD_FREE;
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
		st->n_sources += d->sources[s].state != TXCD_FREE;
	for (__u32 i = 0; i < d->n_ifaces; i++) {
		const struct txcd_iface *ifc = &d->ifaces[i];
		struct txc_iface state = {};

		memset(&fi[i], 0, sizeof(fi[i]));
		memcpy(fi[i].name, ifc->name, sizeof(fi[i].name));
		fi[i].ifindex = ifc->ifindex;
		fi[i].hooks = ifc->hooks;
		if (ifc->ifindex && !txc_iface_get(d->dp, ifc->ifindex, &state)) {
			fi[i].slot = state.slot;
			fi[i].flags = state.flags;
		}
		if (ifc->ifindex)
			fi[i].flags |= TXC_STATUS_IFACE_PRESENT;
	}
	st->n_ifaces = d->n_ifaces;
	fc = (void *)(fi + d->n_ifaces);
	room = (TXC_MSG_MAX - HDR - sizeof(*st) - d->n_ifaces * sizeof(*fi)) / sizeof(*fc);
	for (struct txcd_conn *c = d->conns; c && n_clients < room; c = c->next) {
		struct txc_status_client *e = &fc[n_clients++];

		*e = (struct txc_status_client){
			.conn_id = c->id, .uid = c->uid, .pid = c->pid,
			.backlog = txcd_conn_backlog(d, c),
		};
		for (__u32 p = TXC_PREFIX_MIN; p <= TXC_PREFIX_MAX; p++)
			e->prefixes += d->prefixes[p].state == TXCD_HELD && d->prefixes[p].conn == c;
		for (__u32 s = 1; s < TXC_MAX_SOURCES; s++)
			e->sources += d->sources[s].state == TXCD_HELD && d->sources[s].conn == c;
		for (struct txcd_sub *sub = c->subs; sub; sub = sub->next_in_conn)
			e->subscriptions++;
	}
	st->n_clients = n_clients;
	return reply_ok(reply, h, sizeof(*st) + d->n_ifaces * sizeof(*fi) +
			n_clients * sizeof(*fc));
}

/* Whether txcancel's qdisc holds @ifindex's queues: a cancel reaches them too. */
static bool explain_qdisc(struct txcd *d, __u32 ifindex)
{
	struct txc_iface state;

	return !txc_iface_get(d->dp, ifindex, &state) && (state.flags & TXC_IFACE_F_QDISC);
}

static size_t do_explain(struct txcd *d, const __u8 *req, void *reply)
{
	const struct txc_msg_hdr *h = (const void *)req;
	const struct txc_req_explain *r = (const void *)(req + HDR);
	struct txc_rep_explain *rep = body_of(reply);
	struct txc_explain_result res;
	struct txc_rep_error err;
	__u32 ifindex = 0;
	int ret;

	if (r->ifname[0] && !(ifindex = if_nametoindex(r->ifname)))
		return reply_err(reply, h, -ENODEV, (txcd_error(&err, -ENODEV,
				 HDR + OFF(struct txc_req_explain, ifname),
				 "no interface %s here", r->ifname), &err));
	ret = txc_dp_explain(d->dp, r->frame, r->frame_len, r->mark, ifindex, &res);
	if (ret)
		return reply_err(reply, h, ret, (txcd_error(&err, ret, TXC_FIELD_NONE,
				 "running the frame through the program: %s", strerror(-ret)),
				 &err));
	*rep = (struct txc_rep_explain){
		.cancel_id = res.cancel_id,
		.source = res.source,
		.tag_kind = res.tag_kind,
		.scope = res.scope,
		.verdict = res.verdict,
		.flags = res.flags,
		.frame = res.frame,
	};
	if (ifindex && explain_qdisc(d, ifindex))
		rep->flags |= TXC_EXPLAIN_F_QDISC;
	return reply_ok(reply, h, sizeof(*rep));
}

/* Interfaces' counters from the datapath, requests' from the daemon. */
static size_t do_metrics(struct txcd *d, const struct txc_msg_hdr *h, void *reply)
{
	struct txc_rep_metrics *m = body_of(reply);
	struct txc_metrics_iface *mi = (void *)(m + 1);
	struct txc_metrics_request *mr = (void *)(mi + d->n_ifaces);

	*m = (struct txc_rep_metrics){
		.n_ifaces = d->n_ifaces, .n_requests = TXC_MSG_REQUEST_MAX + 1,
		.flags = d->opts.iface_counters ? TXC_METRICS_F_IFACE_COUNTERS : 0,
		.uptime_ns = txcd_now_ns() - d->start_ns,
	};
	for (__u32 i = 0; i < d->n_ifaces; i++) {
		const struct txcd_iface *ifc = &d->ifaces[i];
		struct txc_iface_stats st;

		memset(&mi[i], 0, sizeof(mi[i]));
		memcpy(mi[i].name, ifc->name, sizeof(mi[i].name));
		mi[i].ifindex = ifc->ifindex;
		if (ifc->ifindex && !txc_dp_iface_counters(d->dp, ifc->ifindex, &st))
			mi[i].counts = (struct txc_counters){
				.passed_frames = st.passed_frames, .passed_bytes = st.passed_bytes,
				.aborted_frames = st.aborted_frames,
				.aborted_bytes = st.aborted_bytes,
			};
	}
	for (__u32 t = 0; t <= TXC_MSG_REQUEST_MAX; t++)
		mr[t] = (struct txc_metrics_request){
			.type = t, .requests = d->req_count[t], .errors = d->req_errors[t],
		};
	return reply_ok(reply, h, sizeof(*m) + d->n_ifaces * sizeof(*mi) +
			(TXC_MSG_REQUEST_MAX + 1) * sizeof(*mr));
}

/*
 * Where each interface's frames were aborted: at the hook from the
 * interface's counters, in the queues from txcancel's qdisc's.
 */
static size_t do_abort_places(struct txcd *d, const struct txc_msg_hdr *h, void *reply)
{
	struct txc_rep_list *l = body_of(reply);
	struct txc_places_iface *pi = (void *)(l + 1);
	struct txc_queue_info qi[TXC_QDISC_QUEUES_MAX];

	*l = (struct txc_rep_list){ .count = d->n_ifaces };
	for (__u32 i = 0; i < d->n_ifaces; i++) {
		const struct txcd_iface *ifc = &d->ifaces[i];
		struct txc_iface_stats st;
		struct txc_iface state;
		int n;

		memset(&pi[i], 0, sizeof(pi[i]));
		memcpy(pi[i].name, ifc->name, sizeof(pi[i].name));
		pi[i].ifindex = ifc->ifindex;
		if (d->opts.iface_counters)
			pi[i].flags |= TXC_PLACES_F_HOOK_COUNTED;
		if (!ifc->ifindex)
			continue;
		if (d->opts.iface_counters && !txc_dp_iface_counters(d->dp, ifc->ifindex, &st))
			pi[i].aborted[TXC_AT_HOOK] = st.aborted_frames;
		if (!txc_iface_get(d->dp, ifc->ifindex, &state) &&
		    (state.flags & TXC_IFACE_F_QDISC))
			pi[i].flags |= TXC_PLACES_F_QDISC;
		n = txc_qdisc_queues(d->dp, ifc->ifindex, qi, sizeof(qi) / sizeof(qi[0]));
		for (int q = 0; q < n; q++) {
			pi[i].queues++;
			pi[i].queued += qi[q].qlen;
			pi[i].aborted[TXC_AT_ENQUEUE] += qi[q].at_enqueue;
			pi[i].aborted[TXC_AT_PURGE] += qi[q].at_purge;
			pi[i].aborted[TXC_AT_DEQUEUE] += qi[q].at_dequeue;
			pi[i].aborted[TXC_PLACE_RESET] += qi[q].at_reset;
		}
	}
	return reply_ok(reply, h, sizeof(*l) + d->n_ifaces * sizeof(*pi));
}

/* --- dispatch ------------------------------------------------------------- */

size_t txcd_handle(struct txcd *d, struct txcd_conn *c, const void *msg, size_t len, int fd,
		   void *reply)
{
	const struct txc_msg_hdr *h = msg;
	const void *body = (const __u8 *)msg + HDR;
	struct txc_rep_error err;
	char why[sizeof(err.message)];
	union txc_tag_key key;
	__u32 u32, ifindex;
	int ret = 0;

	(void)len;
	if (fd >= 0 && h->type != TXC_MSG_TAG_ADD && h->type != TXC_MSG_TAG_DEL) {
		close(fd);
		return reply_err(reply, h, -EINVAL, (txcd_error(&err, -EINVAL, TXC_FIELD_NONE,
				 "only TAG_ADD and TAG_DEL of a socket take a file descriptor"),
				 &err));
	}
	switch (h->type) {
	case TXC_MSG_HELLO: {
		struct txc_rep_hello *rep = body_of(reply);

		*rep = (struct txc_rep_hello){
			.version = TXC_PROTO_VERSION, .conn_id = c->id, .uid = c->uid,
			.pid = c->pid, .mark_mask = d->opts.mark_mask,
			.max_prefixes = d->opts.max_prefixes, .max_sources = d->opts.max_sources,
			.max_rules = d->opts.max_rules,
		};
		return reply_ok(reply, h, sizeof(*rep));
	}
	case TXC_MSG_PREFIX_ALLOC: {
		const struct txc_req_prefix *r = body;
		struct txc_rep_prefix *rep = body_of(reply);

		ret = txcd_prefix_alloc(d, c, r->prefix, &u32, why, sizeof(why));
		if (ret)
			break;
		*rep = (struct txc_rep_prefix){ .prefix = u32 };
		return reply_ok(reply, h, sizeof(*rep));
	}
	case TXC_MSG_PREFIX_FREE: {
		const struct txc_req_prefix *r = body;

		ret = need_scope(d, c, TXC_SCOPE_PREFIX, r->prefix,
				 HDR + OFF(struct txc_req_prefix, prefix), &err);
		if (ret)
			return reply_err(reply, h, ret, &err);
		txcd_prefix_release(d, r->prefix);
		return reply_ok(reply, h, 0);
	}
	case TXC_MSG_PREFIX_LIST:
		return do_prefix_list(d, c, h, reply);
	case TXC_MSG_SOURCE_OPEN: {
		const struct txc_req_source *r = body;
		struct txc_rep_source *rep = body_of(reply);

		ret = txcd_source_open(d, c, r->source, &u32, why, sizeof(why));
		if (ret == -EINPROGRESS) {
			/* No ring is ready: answered when one is (ringpool.c). */
			memcpy(c->parked_req, msg, sizeof(c->parked_req));
			c->parked_len = sizeof(c->parked_req);
			txcd_ringpool_park(d, c);
			return 0;
		}
		if (ret)
			break;
		*rep = (struct txc_rep_source){ .source = u32 };
		return reply_ok(reply, h, sizeof(*rep));
	}
	case TXC_MSG_SOURCE_CLOSE:
	case TXC_MSG_SUBSCRIBE:
	case TXC_MSG_UNSUBSCRIBE: {
		const struct txc_req_source *r = body;

		ret = need_source(d, c, r->source, HDR + OFF(struct txc_req_source, source), &err);
		if (ret)
			return reply_err(reply, h, ret, &err);
		if (h->type == TXC_MSG_SOURCE_CLOSE) {
			txcd_source_release(d, r->source);
		} else if (h->type == TXC_MSG_SUBSCRIBE) {
			ret = txcd_subscribe(d, c, r->source, why, sizeof(why));
			if (ret && ret != -EALREADY && ret != -EDQUOT)
				snprintf(why, sizeof(why), "subscribing to source %u: %s",
					 r->source, strerror(-ret));
		} else {
			ret = txcd_unsubscribe(d, c, r->source);
			snprintf(why, sizeof(why), "source %u: not subscribed", r->source);
		}
		if (ret)
			break;
		return reply_ok(reply, h, 0);
	}
	case TXC_MSG_TAG_ADD: {
		struct txc_rep_tag *rep = body_of(reply);

		ret = check_tag_add(d, c, body, HDR, fd, 0, &key, &err);
		if (!ret)
			ret = apply_tag_add(d, body, &key, fd, &err);
		if (fd >= 0)
			close(fd);
		if (ret)
			return reply_err(reply, h, ret, &err);
		rep->key = ((const struct txc_req_tag *)body)->kind == TXC_TAG_SOCKET ?
			   key.socket_cookie : 0;
		return reply_ok(reply, h, sizeof(*rep));
	}
	case TXC_MSG_TAG_DEL:
		ret = check_tag_del(d, c, body, HDR, fd, &err);
		if (!ret)
			ret = apply_tag_del(d, body, fd, &err);
		if (fd >= 0)
			close(fd);
		if (ret)
			return reply_err(reply, h, ret, &err);
		return reply_ok(reply, h, 0);
	case TXC_MSG_CANCEL: {
		struct txc_rep_cancel *rep = body_of(reply);

		ret = check_cancel(d, c, body, HDR, &ifindex, &err);
		if (!ret)
			ret = apply_cancel(d, body, ifindex, &rep->since_ns, &err);
		if (ret)
			return reply_err(reply, h, ret, &err);
		return reply_ok(reply, h, sizeof(*rep));
	}
	case TXC_MSG_CLEAR: {
		const struct txc_req_clear *r = body;

		ret = need_scope(d, c, r->scope, r->value, HDR + OFF(struct txc_req_clear, value),
				 &err);
		if (!ret)
			ret = apply_clear(d, r, body_of(reply), &err);
		if (ret)
			return reply_err(reply, h, ret, &err);
		return reply_ok(reply, h, sizeof(struct txc_rep_clear));
	}
	case TXC_MSG_STATS:
		return do_stats(d, c, msg, reply);
	case TXC_MSG_COUNT_ID: {
		const struct txc_req_count_id *r = body;
		char what[48];

		snprintf(what, sizeof(what), "cancel ID 0x%08x", r->cancel_id);
		ret = need_prefix(d, c, TXC_ID_PREFIX(r->cancel_id),
				  HDR + OFF(struct txc_req_count_id, cancel_id), what, &err);
		if (ret)
			return reply_err(reply, h, ret, &err);
		if (r->enable)
			txcd_prefix_ids_used(d, TXC_ID_PREFIX(r->cancel_id), true);
		ret = r->enable ? txc_dp_id_count_try(d->dp, r->cancel_id) :
				  txc_dp_id_count_stop(d->dp, r->cancel_id);
		/*
		 * The kernel's per-CPU allocator is refilling: try again in a
		 * millisecond, a few dozen times, parked, while the loop goes on.
		 */
		if (ret == -EAGAIN && c->retries < COUNT_ID_RETRIES) {
			c->retries++;
			memcpy(c->parked_req, msg, sizeof(c->parked_req));
			c->parked_len = sizeof(c->parked_req);
			txcd_conn_retry_later(d, c);
			return 0;
		}
		c->retries = 0;
		if (ret == -EAGAIN)
			snprintf(why, sizeof(why), "starting the counters of 0x%08x: the kernel is "
				 "short of per-CPU memory for a new counter; try again", r->cancel_id);
		else if (ret == -ENOENT && !r->enable)
			snprintf(why, sizeof(why), "cancel ID 0x%08x is not counted", r->cancel_id);
		else
			snprintf(why, sizeof(why), "%s the counters of 0x%08x: %s",
				 r->enable ? "starting" : "stopping", r->cancel_id, strerror(-ret));
		if (ret)
			break;
		return reply_ok(reply, h, 0);
	}
	case TXC_MSG_BATCH:
		return do_batch(d, c, msg, reply);
	case TXC_MSG_STATUS:
		return do_status(d, h, reply);
	case TXC_MSG_EXPLAIN:
		return do_explain(d, msg, reply);
	case TXC_MSG_METRICS:
		return do_metrics(d, h, reply);
	case TXC_MSG_ABORT_PLACES:
		return do_abort_places(d, h, reply);
	}
	if (!ret)
		return reply_err(reply, h, -EBADMSG, (txcd_error(&err, -EBADMSG, TXC_FIELD_NONE,
				 "request type %u has no handler", h->type), &err));
	txcd_error(&err, ret, TXC_FIELD_NONE, "%s", why);
	return reply_err(reply, h, ret, &err);
}
