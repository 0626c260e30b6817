/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* txcancel stats: the counters of sources and counted IDs, as tables or JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txcancel.h"

/* ---- stats --------------------------------------------------------------- */

struct stats_args {
	__u8 scope;		/* 0: sources and IDs */
	__u32 value;
	struct txc_stats_entry *sources, *ids;
	int n_sources, n_ids;
};

static void jw_stats_entry(const struct txc_stats_entry *e)
{
	jw_object(NULL);
	jw_uint(e->scope == TXC_SCOPE_ID ? "id" : "source", e->value);
	jw_counts(&e->counts);
	if (e->scope == TXC_SCOPE_SOURCE) {
		jw_uint("ring_lost", e->ring_lost);
		jw_uint("delivered", e->delivered);
		jw_uint("backlog_lost", e->backlog_lost);
		jw_uint("subscribers", e->subscribers);
		jw_uint("uid", e->uid);
	}
	jw_object_end();
}

static void print_stats_json(const struct stats_args *a)
{
	int i;

	jw_object(NULL);
	if (a->scope != TXC_SCOPE_ID) {
		jw_array("sources");
		for (i = 0; i < a->n_sources; i++)
			jw_stats_entry(&a->sources[i]);
		jw_array_end();
	}
	if (a->scope != TXC_SCOPE_SOURCE) {
		jw_array("ids");
		for (i = 0; i < a->n_ids; i++)
			jw_stats_entry(&a->ids[i]);
		jw_array_end();
	}
	jw_object_end();
	jw_end();
}

static void print_source_table(const struct txc_stats_entry *e, int n)
{
	int i;

	if (!n) {
		printf("no sources\n");
		return;
	}
	printf("%-6s %6s %12s %14s %12s %14s %10s %12s %10s %4s\n", "SOURCE", "UID",
	       "PASSED", "PASSED_BYTES", "ABORTED", "ABORTED_BYTES", "RING_LOST",
	       "DELIVERED", "BKLG_LOST", "SUBS");
	for (i = 0; i < n; i++)
		printf("%-6u %6u %12llu %14llu %12llu %14llu %10llu %12llu %10llu %4u\n",
		       e[i].value, e[i].uid,
		       (unsigned long long)e[i].counts.passed_frames,
		       (unsigned long long)e[i].counts.passed_bytes,
		       (unsigned long long)e[i].counts.aborted_frames,
		       (unsigned long long)e[i].counts.aborted_bytes,
		       (unsigned long long)e[i].ring_lost,
		       (unsigned long long)e[i].delivered,
		       (unsigned long long)e[i].backlog_lost, e[i].subscribers);
}

static void print_id_table(const struct txc_stats_entry *e, int n)
{
	int i;

	if (!n) {
		printf("no counted IDs ('txcancel count ID on' counts one)\n");
		return;
	}
	printf("%-10s %12s %14s %12s %14s\n", "ID", "PASSED", "PASSED_BYTES", "ABORTED",
	       "ABORTED_BYTES");
	for (i = 0; i < n; i++)
		printf("0x%08x %12llu %14llu %12llu %14llu\n", e[i].value,
		       (unsigned long long)e[i].counts.passed_frames,
		       (unsigned long long)e[i].counts.passed_bytes,
		       (unsigned long long)e[i].counts.aborted_frames,
		       (unsigned long long)e[i].counts.aborted_bytes);
}

static int stats_run(struct txc_client *c, void *arg)
{
	struct stats_args *a = arg;

	if (a->scope != TXC_SCOPE_ID) {
		a->n_sources = txc_stats(c, TXC_SCOPE_SOURCE,
					 a->scope == TXC_SCOPE_SOURCE ? a->value : 0,
					 a->sources, MAX_STATS);
		if (a->n_sources < 0)
			return client_error(c, a->n_sources);
	}
	if (a->scope != TXC_SCOPE_SOURCE) {
		a->n_ids = txc_stats(c, TXC_SCOPE_ID, a->scope == TXC_SCOPE_ID ? a->value : 0,
				     a->ids, MAX_STATS);
		if (a->n_ids < 0)
			return client_error(c, a->n_ids);
	}
	if (cli.json) {
		print_stats_json(a);
		return EXIT_OK;
	}
	if (a->scope != TXC_SCOPE_ID)
		print_source_table(a->sources, a->n_sources);
	if (!a->scope)
		printf("\n");
	if (a->scope != TXC_SCOPE_SOURCE)
		print_id_table(a->ids, a->n_ids);
	return EXIT_OK;
}

int do_stats(int argc, char **argv)
{
	struct stats_args a = { 0 };
	int ret;

	if (argc >= 1 && !strcmp(argv[0], "--prometheus")) {
		if (argc > 1)
			return usage_error("--prometheus takes no arguments: it lists everything");
		if (cli.json)
			return usage_error("--prometheus and -j are two different outputs: "
					   "choose one");
		return stats_prometheus();
	}
	if (argc == 1 && (!strcmp(argv[0], "source") || !strcmp(argv[0], "id")))
		return usage_error("'%s' needs a value", argv[0]);
	if (argc == 1 || argc > 2)
		return usage_error("expected nothing, source SOURCE or id ID");
	if (argc == 2) {
		if (!strcmp(argv[0], "source")) {
			a.scope = TXC_SCOPE_SOURCE;
			if (parse_source(argv[1], &a.value))
				return EXIT_USAGE;
		} else if (!strcmp(argv[0], "id")) {
			a.scope = TXC_SCOPE_ID;
			if (parse_id(argv[1], &a.value))
				return EXIT_USAGE;
		} else {
			return usage_error("'%s': expected source SOURCE or id ID", argv[0]);
		}
	}
	a.sources = calloc(MAX_STATS, sizeof(*a.sources));
	a.ids = calloc(MAX_STATS, sizeof(*a.ids));
	if (!a.sources || !a.ids)
		ret = runtime_error("out of memory");
	else
		ret = with_client(stats_run, &a);
	free(a.sources);
	free(a.ids);
	return ret;
}
