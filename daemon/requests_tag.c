// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Tags, cancels and clears: each a check step (permissions, limits,
 * existing rules) and an apply step, shared by the single requests and
 * by the batch (requests_batch.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "requests.h"
#include "rules.h"

#define OFF	TXCD_OFF

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
int txcd_check_tag_add(struct txcd *d, struct txcd_conn *c, const struct txc_req_tag *t,
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
	ret = txcd_need_prefix(d, c, TXC_ID_PREFIX(t->cancel_id),
			  off + OFF(struct txc_req_tag, cancel_id), what, err);
	if (!ret)
		ret = txcd_need_source(d, c, t->source, off + OFF(struct txc_req_tag, source), err);
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
		if (!txdp_sock_get(d->dp, fd, &st))
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
int txcd_apply_tag_add(struct txcd *d, const struct txc_req_tag *t,
		       const union txc_tag_key *key, int fd, struct txc_rep_error *err)
{
	struct txc_tag tag = { .cancel_id = t->cancel_id, .source = t->source };
	int ret = t->kind == TXC_TAG_SOCKET ? txdp_sock_tag(d->dp, fd, &tag) :
		  txdp_tag_add(d->dp, t->kind, key, &tag);

	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "storing the %s rule: %s",
				  txcd_rule_table_of(t->kind)->name, txdp_strerror(d->dp, ret));
	/* Socket tags live in their sockets: no rule table, no index entry. */
	if (t->kind != TXC_TAG_SOCKET)
		txcd_rule_added(d, t->kind, key, &tag);
	return 0;
}

/* @fd: the socket of a socket untag, else -1. */
int txcd_check_tag_del(struct txcd *d, struct txcd_conn *c, const struct txc_req_tag *t,
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
		if (txdp_sock_get(d->dp, fd, &st))
			return txcd_error(err, -ENOENT, off + OFF(struct txc_req_tag, key),
					  "the socket passed has no tag");
		old = st.tag;
	} else if (txcd_rule_get(d->dp, t->kind, &t->key, &old)) {
		return txcd_error(err, -ENOENT, off + OFF(struct txc_req_tag, key),
				  "no %s rule with this key", txcd_rule_table_of(t->kind)->name);
	}
	snprintf(what, sizeof(what), "the rule's cancel ID 0x%08x", old.cancel_id);
	return txcd_need_prefix(d, c, TXC_ID_PREFIX(old.cancel_id),
			   off + OFF(struct txc_req_tag, key), what, err);
}

int txcd_apply_tag_del(struct txcd *d, const struct txc_req_tag *t, int fd,
		       struct txc_rep_error *err)
{
	struct txc_tag old;
	int ret;

	if (t->kind == TXC_TAG_SOCKET) {
		ret = txdp_sock_untag(d->dp, fd);
		if (ret)
			return txcd_error(err, ret, TXC_FIELD_NONE, "removing the socket's tag: %s",
					  txdp_strerror(d->dp, ret));
		return 0;
	}
	if (txcd_rule_get(d->dp, t->kind, &t->key, &old))
		return txcd_error(err, -ENOENT, TXC_FIELD_NONE, "the rule is gone");
	ret = txdp_tag_del(d->dp, t->kind, &t->key);
	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "removing the rule: %s",
				  txdp_strerror(d->dp, ret));
	txcd_rule_removed(d, t->kind, &t->key, &old);
	return 0;
}

/* --- cancel and clear ----------------------------------------------------- */

int txcd_check_cancel(struct txcd *d, struct txcd_conn *c, const struct txc_req_cancel *r,
		      size_t off, __u32 *ifindex, struct txc_rep_error *err)
{
	int ret = txcd_need_scope(d, c, r->scope, r->value, off + OFF(struct txc_req_cancel, value),
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

int txcd_apply_cancel(struct txcd *d, const struct txc_req_cancel *r, __u32 ifindex,
		      __u64 *since, struct txc_rep_error *err)
{
	__u64 expires = r->timeout_ns ? txcd_now_ns() + r->timeout_ns : 0;
	int ret;

	/* Indexed first: an entry without a cancel is harmless, the reverse is not. */
	if (r->scope == TXC_SCOPE_ID) {
		txcd_prefix_ids_used(d, TXC_ID_PREFIX(r->value), false);
		txcd_cancelindex_add(d, r->value);
	}
	ret = txdp_cancel(d->dp, r->scope, r->value, ifindex, expires);

	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "storing the cancel: %s",
				  txdp_strerror(d->dp, ret));
	*since = txcd_now_ns();
	return 0;
}

void txcd_add_counts(struct txc_counters *sum, const struct txc_id_stats *s)
{
	sum->passed_frames += s->passed_frames;
	sum->passed_bytes += s->passed_bytes;
	sum->aborted_frames += s->aborted_frames;
	sum->aborted_bytes += s->aborted_bytes;
}

struct id_stats_walk {
	int ncpus;
	txcd_id_stats_fn *fn;
	void *ctx;
};

static int id_stats_chunk(void *ctx, const void *keys, const void *vals, __u32 n)
{
	const struct id_stats_walk *w = ctx;
	const struct txc_id_stats *percpu = vals;
	const __u32 *ids = keys;
	int ret = 0;

	for (__u32 i = 0; i < n && !ret; i++, percpu += w->ncpus) {
		struct txc_counters sum = {};

		for (int cpu = 0; cpu < w->ncpus; cpu++)
			txcd_add_counts(&sum, &percpu[cpu]);
		ret = w->fn(w->ctx, ids[i], &sum);
	}
	return ret;
}

int txcd_id_stats_walk(struct txcd *d, txcd_id_stats_fn *fn, void *ctx)
{
	struct id_stats_walk w = { .ncpus = libbpf_num_possible_cpus(), .fn = fn, .ctx = ctx };

	if (w.ncpus < 0)
		return w.ncpus;
	/* A per-CPU map: each key's value is one struct per possible CPU. */
	return txdp_map_walk(txdp_map_fd(d->dp, TXDP_MAP_ID_STATS), sizeof(__u32),
			    w.ncpus * sizeof(struct txc_id_stats), id_stats_chunk, &w);
}

struct prefix_sum {
	__u32 prefix;
	struct txc_rep_clear *out;
};

static int prefix_sum_one(void *ctx, __u32 id, const struct txc_counters *counts)
{
	struct prefix_sum *ps = ctx;
	struct txc_counters *c = &ps->out->counts;

	if (TXC_ID_PREFIX(id) != ps->prefix)
		return 0;
	ps->out->valid = 1;
	c->passed_frames += counts->passed_frames;
	c->passed_bytes += counts->passed_bytes;
	c->aborted_frames += counts->aborted_frames;
	c->aborted_bytes += counts->aborted_bytes;
	return 0;
}

/* Final counts for CLEAR: see struct txc_rep_clear. */
static void final_counts(struct txcd *d, __u8 scope, __u32 value, struct txc_rep_clear *out)
{
	memset(out, 0, sizeof(*out));
	if (scope == TXC_SCOPE_SOURCE) {
		struct txc_source_stats st;

		if (!txdp_source_stats(d->dp, value, &st)) {
			out->valid = 1;
			out->counts = (struct txc_counters){
				st.passed_frames, st.passed_bytes,
				st.aborted_frames, st.aborted_bytes,
			};
		}
	} else if (!txdp_lookup_on(d->dp, TXC_LOOKUP_ID_STATS)) {
		/* No ID is counted (the bit is set while any is): nothing to look up. */
		return;
	} else if (scope == TXC_SCOPE_ID) {
		struct txc_id_stats st;

		if (!txdp_id_counters(d->dp, value, &st)) {
			out->valid = 1;
			txcd_add_counts(&out->counts, &st);
		}
	} else if (d->prefixes[value & 0xff].ids_counted) {
		struct prefix_sum sum = { .prefix = value, .out = out };

		txcd_id_stats_walk(d, prefix_sum_one, &sum);
	}
}

int txcd_apply_clear(struct txcd *d, const struct txc_req_clear *r, struct txc_rep_clear *out,
		     struct txc_rep_error *err)
{
	int ret = txdp_clear(d->dp, r->scope, r->value);

	if (ret)
		return txcd_error(err, ret, TXC_FIELD_NONE, "clearing the cancel: %s",
				  txdp_strerror(d->dp, ret));
	if (r->scope == TXC_SCOPE_ID)
		txcd_cancelindex_del(d, r->value);
	if (out)
		final_counts(d, r->scope, r->value, out);
	return 0;
}


/* --- the single requests -------------------------------------------------- */

int txcd_do_tag_add(struct txcd_req *r)
{
	const struct txc_req_tag *t = r->body;
	struct txc_rep_tag *rep = r->rep;
	union txc_tag_key key;
	int ret;

	ret = txcd_check_tag_add(r->d, r->c, t, TXCD_HDR, r->fd, 0, &key, &r->err);
	if (!ret)
		ret = txcd_apply_tag_add(r->d, t, &key, r->fd, &r->err);
	if (ret)
		return ret;
	rep->key = t->kind == TXC_TAG_SOCKET ? key.socket_cookie : 0;
	return 0;
}

int txcd_do_tag_del(struct txcd_req *r)
{
	int ret = txcd_check_tag_del(r->d, r->c, r->body, TXCD_HDR, r->fd, &r->err);

	return ret ? ret : txcd_apply_tag_del(r->d, r->body, r->fd, &r->err);
}

int txcd_do_cancel(struct txcd_req *r)
{
	struct txc_rep_cancel *rep = r->rep;
	__u32 ifindex;
	int ret;

	ret = txcd_check_cancel(r->d, r->c, r->body, TXCD_HDR, &ifindex, &r->err);
	if (!ret)
		ret = txcd_apply_cancel(r->d, r->body, ifindex, &rep->since_ns, &r->err);
	return ret;
}

int txcd_do_clear(struct txcd_req *r)
{
	const struct txc_req_clear *req = r->body;
	int ret;

	ret = txcd_need_scope(r->d, r->c, req->scope, req->value,
			      TXCD_HDR + OFF(struct txc_req_clear, value), &r->err);
	if (!ret)
		ret = txcd_apply_clear(r->d, req, r->rep, &r->err);
	return ret;
}
