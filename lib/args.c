/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Request bodies from the caller's arguments, shared by the single requests
 * and the batch builder.  Only what can never be right is refused here
 * (with the fix in the text); whether the caller may act on a prefix or a
 * source is the daemon's decision.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "tag_kinds.h"
#include "values.h"

#define IFNAME_LEN	sizeof(((struct txc_req_cancel *)0)->ifname)

/*
 * The sentences are the ones every side uses (common/values.c); the library
 * adds the call that gives a valid value.
 */
static const char *const value_hints[] = {
	[TXC_SCOPE_SOURCE] = ", a handle from txc_source_open()",
	[TXC_SCOPE_PREFIX] = "",
	[TXC_SCOPE_ID] = "; make IDs with TXC_ID_MAKE() and a prefix from "
			 "txc_generate_partial_cancel_id()",
};

static int check_scope_value(char *err, __u8 scope, __u32 value)
{
	char why[TXCC_PROBLEM_MAX];

	if (!txcc_scope_value_problem(scope, value, why))
		return 0;
	if (txcc_scope_problem(scope, why))
		return txcl_fail(err, -EINVAL, "%s (TXC_SCOPE_*)", why);
	return txcl_fail(err, -EINVAL, "%s%s", why, value_hints[scope]);
}

int txcl_check_source(char *err, __u32 source)
{
	return check_scope_value(err, TXC_SCOPE_SOURCE, source);
}

int txcl_check_id(char *err, __u32 cancel_id)
{
	return check_scope_value(err, TXC_SCOPE_ID, cancel_id);
}

int txcl_check_prefix(char *err, __u32 prefix)
{
	return check_scope_value(err, TXC_SCOPE_PREFIX, prefix);
}

int txcl_copy_ifname(char *err, char dst[16], const char *ifname)
{
	size_t len;

	memset(dst, 0, IFNAME_LEN);
	if (!ifname)
		return 0;
	len = strlen(ifname);
	if (!len)
		return txcl_fail(err, -EINVAL, "the interface name is empty: pass NULL for "
				 "every interface");
	if (len >= IFNAME_LEN)
		return txcl_fail(err, -ENAMETOOLONG, "interface name '%s' is longer than %zu "
				 "characters", ifname, IFNAME_LEN - 1);
	if (txc_ifname_problem(ifname))
		return txcl_fail(err, -EINVAL, "interface name '%s' is not valid: %s", ifname,
				 txc_ifname_problem(ifname));
	memcpy(dst, ifname, len);
	return 0;
}

/* The key's own check is the common one; the library adds how to get a good one. */
static int check_key(char *err, bool add, __u8 kind, const union txc_tag_key *key)
{
	char why[TXCC_PROBLEM_MAX];
	__u32 at;

	/* TAG_ADD passes the socket itself; the cookie comes back. */
	if (kind == TXC_TAG_SOCKET && !add && !key->socket_cookie)
		return txcl_fail(err, -EINVAL, "untagging a socket needs the cookie "
				 "txc_tag_socket() returned");
	if (!txcc_tag_key_problem(kind, key, &at, why))
		return 0;
	return txcl_fail(err, -EINVAL, "%s%s", why, kind == TXC_TAG_CGROUP ?
			 ": use the inode number of a cgroup v2 directory" : "");
}

int txcl_make_tag(char *err, struct txc_req_tag *t, bool add, __u8 kind,
		  const union txc_tag_key *key, __u32 cancel_id, __u32 source)
{
	size_t size = txc_tag_key_size(kind);
	char names[TXCC_NAMES_MAX];
	int ret;

	memset(t, 0, sizeof(*t));
	if (!size)
		return txcl_fail(err, -EINVAL, "tag kind %u: must be %s (TXC_TAG_*)", kind,
				 txcc_tag_kind_names(names, true));
	if (!key)
		return txcl_fail(err, -EINVAL, "the tag key is NULL");
	if (add) {
		ret = txcl_check_id(err, cancel_id);
		if (!ret)
			ret = txcl_check_source(err, source);
		if (ret)
			return ret;
		t->cancel_id = cancel_id;
		t->source = source;
	}
	t->kind = kind;
	/*
	 * Only the kind's own bytes: the rest of the caller's union may hold
	 * anything, and the daemon refuses a key whose unused bytes are not 0.
	 */
	memcpy(t->key.raw, key->raw, size);
	return check_key(err, add, kind, &t->key);
}

int txcl_make_cancel(char *err, struct txc_req_cancel *r, __u8 scope, __u32 value,
		     const char *ifname, __u64 timeout_ns)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = check_scope_value(err, scope, value);
	if (!ret)
		ret = txcl_copy_ifname(err, r->ifname, ifname);
	if (ret)
		return ret;
	r->scope = scope;
	r->value = value;
	r->timeout_ns = timeout_ns;
	return 0;
}

int txcl_make_clear(char *err, struct txc_req_clear *r, __u8 scope, __u32 value)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = check_scope_value(err, scope, value);
	if (ret)
		return ret;
	r->scope = scope;
	r->value = value;
	return 0;
}
