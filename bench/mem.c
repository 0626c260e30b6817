// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * mem: figure M1 of bench/README.md, what 1,000,000 tag rules cost in memory.
 *
 * A private txcanceld (tests/daemon_fixture.h) gets 1,000,000 flow rules
 * from one client through libtxcancel, TXC_BATCH_MAX per request, all under
 * one prefix and one source.  Measured before and after:
 *   - the daemon's VmRSS (/proc/<pid>/status);
 *   - the memory of the BPF maps it holds: the sum of `memlock:` over the
 *     map fds in /proc/<pid>/fdinfo, each map counted once (by map_id).
 *     That is the number `bpftool map show` prints as memlock; for the
 *     rule tables, which are not preallocated, the kernel reports what the
 *     elements in them take.
 * Also how fast the rules went in (rules/s) and how long releasing them
 * took: closing the source makes the daemon delete every rule of that
 * source, found in its rule index, 512 a loop turn while it serves its other
 * clients between; the release is over when the prefix's rule count (in
 * PREFIX_LIST) reads 0.  VmHWM after the release shows the daemon's peak.
 *
 * Every figure here is stated, none has a target (met = -1).
 *
 * Usage: mem [--quick]		(quick: 10,000 rules)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "txcancel/txcancel.h"
#include "benchlib.h"
#include "daemon_fixture.h"

/* VmRSS or VmHWM of @pid in MiB, or a negative errno. */
static double vm_mib(pid_t pid, const char *key)
{
	long long kb = bench_proc_status(pid, key);

	return kb < 0 ? -ENOENT : kb / 1024.0;
}

/* Sum of memlock over the BPF maps @pid holds fds of, each map once; MiB. */
static double maps_mib(pid_t pid, int *nmaps)
{
	long long bytes = bench_maps_memlock(pid, nmaps);

	return bytes < 0 ? bytes : bytes / (1024.0 * 1024.0);
}

/* Flow @i of the benchmark's rules: 198.19.0.0/16 to 198.18.128.0/17, by port. */
static void flow_of(__u32 i, union txc_tag_key *key)
{
	struct txc_flow_key *k = &key->flow;

	memset(key, 0, sizeof(*key));
	k->family = TXC_FAMILY_IPV4;
	k->proto = 17;
	k->saddr[0] = 198, k->saddr[1] = 19, k->saddr[2] = (i >> 8) & 0xff, k->saddr[3] = i & 0xff;
	k->daddr[0] = 198, k->daddr[1] = 18, k->daddr[2] = 128, k->daddr[3] = 1;
	k->sport = htons(1024 + (i >> 16));
	k->dport = htons(5001);
}

static void stated(const char *name, const char *unit, double v, const char *note)
{
	double one = v;
	struct bench_row row = {
		.figure = "M1",
		.name = name,
		.unit = unit,
		.value = bench_stat_of(&one, 1),
		.target = "stated in the README",
		.met = -1,
		.note = note,
	};

	bench_emit(&row);
}

static int add_rules(struct txc_client *cl, __u8 prefix, __u32 source, __u32 nrules)
{
	struct txc_batch *batch = txc_batch_new();
	union txc_tag_key key;
	__u32 i = 0, failed;
	int n;

	if (!batch)
		return -ENOMEM;
	while (i < nrules) {
		txc_batch_reset(batch);
		for (; i < nrules && txc_batch_count(batch) < TXC_BATCH_MAX; i++) {
			flow_of(i, &key);
			n = txc_batch_tag(batch, TXC_TAG_FLOW, &key,
					  TXC_ID_MAKE(prefix, i + 1), source);
			if (n) {
				fprintf(stderr, "mem: building a batch: %s\n", strerror(-n));
				txc_batch_free(batch);
				return n;
			}
		}
		n = txc_batch_submit(cl, batch, &failed);
		if (n != (int)txc_batch_count(batch)) {
			fprintf(stderr, "mem: batch ending at rule %u: %s (op %u): %s\n", i,
				strerror(n < 0 ? -n : EPROTO), failed, txc_client_error(cl));
			txc_batch_free(batch);
			return n < 0 ? n : -EPROTO;
		}
	}
	txc_batch_free(batch);
	return 0;
}

/* The release goes on after the reply: it is over when @prefix counts no rule. */
static int rules_gone(struct txc_client *cl, __u8 prefix)
{
	static struct txc_prefix_info info[TXC_PREFIX_MAX];

	for (;;) {
		int n = txc_prefix_list(cl, info, TXC_PREFIX_MAX);
		bool left = false;

		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			left |= info[i].prefix == prefix && info[i].rules;
		if (!left)
			return 0;
		usleep(1000);
	}
}

/* What one run measured: MiB, counts and ns. */
struct figures {
	__u32 nrules;
	double rss0, rss1, rss2, hwm, maps0, maps1, maps2;
	int nmaps0, nmaps1, nmaps2;
	__u64 t_add, t_close, t_free;
};

/* Release the rules: close their source, wait until they are gone, free the prefix. */
static int release(struct txc_client *cl, __u32 source, __u8 prefix, struct figures *m)
{
	__u64 t0;
	int err;

	t0 = bench_now_ns();
	err = txc_source_close(cl, source);
	if (!err)
		err = rules_gone(cl, prefix);
	m->t_close = bench_now_ns() - t0;
	if (err) {
		fprintf(stderr, "mem: closing the source: %s\n", txc_client_error(cl));
		return err;
	}
	t0 = bench_now_ns();
	err = txc_prefix_free(cl, prefix);
	m->t_free = bench_now_ns() - t0;
	if (err) {
		fprintf(stderr, "mem: freeing the prefix: %s\n", txc_client_error(cl));
		return err;
	}
	return 0;
}

static void emit_rows(const struct figures *m)
{
	char note[512], name[128];

	snprintf(name, sizeof(name), "daemon VmRSS, %u flow rules", m->nrules);
	snprintf(note, sizeof(note), "VmRSS of txcanceld with one client, a prefix and a "
		 "source: %.1f MiB before the rules, %.1f MiB after their release (peak VmHWM "
		 "%.1f MiB); the rules live in BPF maps, the daemon keeps an index of them (key, "
		 "ID, source: about 72 bytes a rule, kept for reuse after a release)", m->rss0,
		 m->rss2, m->hwm);
	stated(name, "MiB", m->rss1, note);
	snprintf(name, sizeof(name), "BPF map memory, %u flow rules", m->nrules);
	snprintf(note, sizeof(note), "sum of memlock in /proc/<txcanceld>/fdinfo over its %d "
		 "maps (bpftool's bytes_memlock), each map once: %.1f MiB before, %.1f MiB "
		 "after the release; %.0f bytes per rule.  Before any rule most of it is the "
		 "bucket arrays of the hash tables, sized by their max_entries", m->nmaps1,
		 m->maps0, m->maps2, (m->maps1 - m->maps0) * 1024 * 1024 / m->nrules);
	stated(name, "MiB", m->maps1, note);
	snprintf(name, sizeof(name), "adding %u flow rules, %u per batch", m->nrules,
		 TXC_BATCH_MAX);
	snprintf(note, sizeof(note), "%u requests in %.2f s; the daemon checks each rule (a "
		 "map lookup for an existing one) and stores it (a map update)",
		 (m->nrules + TXC_BATCH_MAX - 1) / TXC_BATCH_MAX, m->t_add / 1e9);
	stated(name, "rules/s", m->nrules / (m->t_add / 1e9), note);
	snprintf(name, sizeof(name), "releasing %u flow rules (closing their source)", m->nrules);
	snprintf(note, sizeof(note), "the daemon deletes the source's rules, found in its "
		 "rule index, 512 a loop turn, serving its other clients between; %.2f s until "
		 "the prefix's rule count read 0, and %.3f s more to free the prefix (nothing left "
		 "to remove)", m->t_close / 1e9, m->t_free / 1e9);
	stated(name, "rules/s", m->nrules / (m->t_close / 1e9), note);
}

int main(int argc, char **argv)
{
	struct figures m = { .nrules = bench_quick(argc, argv) ? 10000 : 1000000 };
	char max_rules[16];
	const char *args[] = { "--max-rules", max_rules, "--log-level", "info", NULL };
	struct txc_client *cl = NULL;
	struct txct_daemon d;
	__u64 t0;
	int err;
	__u32 source;
	__u8 prefix;

	/* Root is not limited by --max-rules; it is raised anyway, as a user would need. */
	snprintf(max_rules, sizeof(max_rules), "%u", m.nrules + 1);
	err = txct_daemon_start(&d, NULL, args);
	if (err) {
		fprintf(stderr, "mem: starting txcanceld: %s\n", strerror(-err));
		return 1;
	}
	err = txc_client_open(&cl, d.sock);
	if (err) {
		fprintf(stderr, "mem: connecting: %s\n", txc_last_error());
		goto out;
	}
	err = txc_generate_partial_cancel_id(cl, &prefix);
	if (!err)
		err = txc_source_open(cl, &source);
	if (err) {
		fprintf(stderr, "mem: a prefix and a source: %s\n", txc_client_error(cl));
		goto out;
	}

	m.rss0 = vm_mib(d.pid, "VmRSS");
	m.maps0 = maps_mib(d.pid, &m.nmaps0);
	fprintf(stderr, "mem: txcanceld %d: VmRSS %.1f MiB, %d maps %.1f MiB; adding %u flow "
		"rules\n", d.pid, m.rss0, m.nmaps0, m.maps0, m.nrules);

	t0 = bench_now_ns();
	err = add_rules(cl, prefix, source, m.nrules);
	m.t_add = bench_now_ns() - t0;
	if (err)
		goto out;
	m.rss1 = vm_mib(d.pid, "VmRSS");
	m.maps1 = maps_mib(d.pid, &m.nmaps1);
	fprintf(stderr, "mem: %u rules in %.2f s: VmRSS %.1f MiB, %d maps %.1f MiB\n", m.nrules,
		m.t_add / 1e9, m.rss1, m.nmaps1, m.maps1);

	err = release(cl, source, prefix, &m);
	if (err)
		goto out;
	m.rss2 = vm_mib(d.pid, "VmRSS");
	m.hwm = vm_mib(d.pid, "VmHWM");
	m.maps2 = maps_mib(d.pid, &m.nmaps2);
	fprintf(stderr, "mem: released in %.2f s + %.3f s: VmRSS %.1f MiB (peak %.1f), %d maps "
		"%.1f MiB\n", m.t_close / 1e9, m.t_free / 1e9, m.rss2, m.hwm, m.nmaps2, m.maps2);
	if (m.rss0 < 0 || m.rss1 < 0 || m.rss2 < 0 || m.hwm < 0 || m.maps0 < 0 || m.maps1 < 0 ||
	    m.maps2 < 0) {
		fprintf(stderr, "mem: reading /proc/%d failed\n", d.pid);
		err = -EIO;
		goto out;
	}

	emit_rows(&m);
out:
	txc_client_close(cl);
	if (txct_daemon_stop(&d) && !err) {
		fprintf(stderr, "mem: txcanceld did not exit cleanly (status %d)\n", d.exit_status);
		txct_daemon_dump_log(&d);
	}
	txct_daemon_cleanup(&d);
	if (err)
		fprintf(stderr, "mem: could not measure: %s\n", strerror(-err));
	return err ? 1 : 0;
}
