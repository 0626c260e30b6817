/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* txcancel stats: the counters of sources and counted IDs, as tables or JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txcancel.h"

/* ---- stats --------------------------------------------------------------- */

struct stats_args {
	__u8 scope;		/* 0: sources, IDs and interfaces */
	__u32 value;
	struct txc_stats_entry *sources, *ids;
	int n_sources, n_ids;
	/* Where frames were aborted, per interface; -1: the daemon predates it. */
	struct txc_places_iface places[TXC_MAX_IFACES];
	int n_places;
};

static void jw_places_iface(const struct txc_places_iface *p)
{
	jw_object(NULL);
	jw_string_n("interface", p->name, sizeof(p->name));
	jw_uint("ifindex", p->ifindex);
	jw_bool("qdisc", p->flags & TXC_PLACES_F_QDISC);
	jw_uint("queues", p->queues);
	jw_uint("in_queue", p->queued);
	jw_object("aborted");
	for (unsigned int i = 0; i < TXC_PLACES; i++) {
		if (i == TXC_AT_HOOK && !(p->flags & TXC_PLACES_F_HOOK_COUNTED))
			jw_null(place_name(i));
		else
			jw_uint(place_name(i), p->aborted[i]);
	}
	jw_object_end();
	jw_object_end();
}

/* Frames aborted by place, per interface; HOOK is "-" without --iface-counters. */
static void print_places_table(const struct txc_places_iface *p, int n)
{
	char hook[24];

	if (!n) {
		printf("no interfaces\n");
		return;
	}
	printf("%-15s %5s %6s %8s %12s %10s %10s %10s %10s\n", "INTERFACE", "QDISC", "QUEUES",
	       "IN_QUEUE", "HOOK", "ENQUEUE", "QUEUED", "DEQUEUE", "RESET");
	for (int i = 0; i < n; i++) {
		if (p[i].flags & TXC_PLACES_F_HOOK_COUNTED)
			snprintf(hook, sizeof(hook), "%llu",
				 (unsigned long long)p[i].aborted[TXC_AT_HOOK]);
		else
			snprintf(hook, sizeof(hook), "-");
		printf("%-15.16s %5s %6u %8u %12s %10llu %10llu %10llu %10llu\n", p[i].name,
		       p[i].flags & TXC_PLACES_F_QDISC ? "yes" : "no", p[i].queues, p[i].queued,
		       hook, (unsigned long long)p[i].aborted[TXC_AT_ENQUEUE],
		       (unsigned long long)p[i].aborted[TXC_AT_PURGE],
		       (unsigned long long)p[i].aborted[TXC_AT_DEQUEUE],
		       (unsigned long long)p[i].aborted[TXC_PLACE_RESET]);
	}
}

/* The places of every interface; a daemon that predates ABORT_PLACES leaves n_places -1. */
static int fetch_places(struct txc_client *c, struct stats_args *a)
{
	a->n_places = txc_abort_places(c, a->places, TXC_MAX_IFACES);
	if (a->n_places == -EBADMSG)
		a->n_places = -1;
	else if (a->n_places < 0)
		return client_error(c, a->n_places);
	else if (a->n_places > (int)TXC_MAX_IFACES)
		a->n_places = TXC_MAX_IFACES;
	return EXIT_OK;
}

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
	if (a->n_places >= 0 && !a->scope) {
		jw_array("interfaces");
		for (i = 0; i < a->n_places; i++)
			jw_places_iface(&a->places[i]);
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
	a->n_places = -1;
	if (!a->scope) {
		int ret = fetch_places(c, a);

		if (ret != EXIT_OK)
			return ret;
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
	if (a->n_places >= 0) {
		printf("\nframes aborted, by place:\n");
		print_places_table(a->places, a->n_places);
	}
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
