// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * txcancel stats --prometheus: every counter of txcanceld in the Prometheus
 * text exposition format, the one node_exporter's textfile collector and
 * promtool read.  Names follow Prometheus' conventions: a txcancel_ prefix,
 * base units in the name (_bytes, _seconds), counters end in _total, what
 * varies (source, interface, request type) is a label.
 *
 * Three requests make one snapshot: STATS (sources and counted IDs this
 * user may see; all for root), STATUS (leases, clients, interfaces present)
 * and METRICS (per-interface counters, requests answered).
 */
#include <errno.h>
#include <stdio.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "proto_table.h"
#include "txcancel.h"

/* The type label: the request's name in lower case; "invalid": refused before any handler. */
static const char *request_label(__u8 type, char buf[24])
{
	const char *name = txcc_msg_name(type);
	size_t i;

	if (!type || !name)
		return "invalid";
	for (i = 0; name[i] && i < 23; i++)
		buf[i] = tolower((unsigned char)name[i]);
	buf[i] = 0;
	return buf;
}

struct prom {
	struct txc_stats_entry *sources, *ids;
	int n_sources, n_ids;
	struct txc_rep_status st;
	struct txc_status_iface ifaces[TXC_MAX_IFACES];
	struct txc_rep_metrics m;
	struct txc_metrics_iface mifaces[TXC_MAX_IFACES];
	struct txc_metrics_request reqs[TXC_MSG_REQUEST_MAX + 1];
	struct txc_places_iface places[TXC_MAX_IFACES];
	int n_places;		/* -1: the daemon predates ABORT_PLACES */
};

static void family(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(const char *s, size_t max)
{
	putchar('"');
	for (size_t i = 0; i < max && s[i]; i++) {
		if (s[i] == '\\' || s[i] == '"')
			printf("\\%c", s[i]);
		else if (s[i] == '\n')
			fputs("\\n", stdout);
		else
			putchar(s[i]);
	}
	putchar('"');
}

static __u64 s_passed_frames(const struct txc_stats_entry *e) { return e->counts.passed_frames; }
static __u64 s_passed_bytes(const struct txc_stats_entry *e) { return e->counts.passed_bytes; }
static __u64 s_aborted_frames(const struct txc_stats_entry *e) { return e->counts.aborted_frames; }
static __u64 s_aborted_bytes(const struct txc_stats_entry *e) { return e->counts.aborted_bytes; }
static __u64 s_ring_lost(const struct txc_stats_entry *e) { return e->ring_lost; }
static __u64 s_delivered(const struct txc_stats_entry *e) { return e->delivered; }
static __u64 s_backlog_lost(const struct txc_stats_entry *e) { return e->backlog_lost; }
static __u64 s_subscribers(const struct txc_stats_entry *e) { return e->subscribers; }

/* A family of one sample per stats entry; @field picks the value. */
struct stats_family {
	const char *name;
	const char *type;
	const char *help;
	__u64 (*field)(const struct txc_stats_entry *e);
};

static const struct stats_family source_families[] = {
	{ "txcancel_source_passed_frames_total", "counter",
	  "Frames tagged for the source that passed.", s_passed_frames },
	{ "txcancel_source_passed_bytes_total", "counter",
	  "Bytes of the source's frames that passed.", s_passed_bytes },
	{ "txcancel_source_aborted_frames_total", "counter",
	  "Frames of the source aborted; each is one completion.", s_aborted_frames },
	{ "txcancel_source_aborted_bytes_total", "counter",
	  "Bytes of the source's aborted frames.", s_aborted_bytes },
	{ "txcancel_source_ring_lost_total", "counter",
	  "Completions that did not fit the source's ring.", s_ring_lost },
	{ "txcancel_source_delivered_total", "counter",
	  "Completions sent to the source's owner.", s_delivered },
	{ "txcancel_source_backlog_lost_total", "counter",
	  "Completions the owner missed: its socket was full or it was not subscribed.",
	  s_backlog_lost },
	{ "txcancel_source_subscribers", "gauge",
	  "Connections subscribed to the source's completions.", s_subscribers },
};

static const struct stats_family id_families[] = {
	{ "txcancel_id_passed_frames_total", "counter",
	  "Frames of a counted ID that passed.", s_passed_frames },
	{ "txcancel_id_passed_bytes_total", "counter",
	  "Bytes of a counted ID's frames that passed.", s_passed_bytes },
	{ "txcancel_id_aborted_frames_total", "counter",
	  "Frames of a counted ID aborted.", s_aborted_frames },
	{ "txcancel_id_aborted_bytes_total", "counter",
	  "Bytes of a counted ID's aborted frames.", s_aborted_bytes },
};

/* Every family of @fams, each with a sample per entry of @e: IDs if @ids, else sources. */
static void per_entry(const struct stats_family *fams, size_t n_fams,
		      const struct txc_stats_entry *e, int n, bool ids)
{
	for (size_t f = 0; f < n_fams; f++) {
		family(fams[f].name, fams[f].type, fams[f].help);
		for (int i = 0; i < n; i++) {
			printf("%s{", fams[f].name);
			if (ids)
				printf("id=\"0x%08x\"", e[i].value);
			else
				printf("source=\"%u\",uid=\"%u\"", e[i].value, e[i].uid);
			printf("} %llu\n", (unsigned long long)fams[f].field(&e[i]));
		}
	}
}

/* A family of one sample per interface; @offset picks the counter. */
struct iface_family {
	const char *name;
	size_t offset;
	const char *help;
};

/* Counted only with txcanceld --iface-counters; @offset into struct txc_counters. */
static const struct iface_family iface_families[] = {
	{ "txcancel_interface_passed_frames_total", offsetof(struct txc_counters, passed_frames),
	  "Tagged frames that passed txcancel's hooks on the interface." },
	{ "txcancel_interface_passed_bytes_total", offsetof(struct txc_counters, passed_bytes),
	  "Bytes of the tagged frames that passed, L2 header included." },
	{ "txcancel_interface_aborted_frames_total", offsetof(struct txc_counters, aborted_frames),
	  "Tagged frames aborted (canceled) on the interface." },
	{ "txcancel_interface_aborted_bytes_total", offsetof(struct txc_counters, aborted_bytes),
	  "Bytes of the aborted frames, L2 header included." },
};

static void per_iface(const struct prom *p, const struct iface_family *fam)
{
	family(fam->name, "counter", fam->help);
	for (__u32 i = 0; i < p->m.n_ifaces && i < TXC_MAX_IFACES; i++) {
		const struct txc_metrics_iface *mi = &p->mifaces[i];
		__u64 v;

		memcpy(&v, (const __u8 *)&mi->counts + fam->offset, sizeof(v));
		printf("%s{interface=", fam->name);
		label_value(mi->name, sizeof(mi->name));
		printf("} %llu\n", (unsigned long long)v);
	}
}

/* One family with one sample per request type; @offset picks the counter. */
static void per_request(const struct prom *p, const char *name, const char *help,
			size_t offset)
{
	char label[24];

	family(name, "counter", help);
	for (__u32 i = 0; i < p->m.n_requests && i <= TXC_MSG_REQUEST_MAX; i++) {
		const struct txc_metrics_request *r = &p->reqs[i];
		__u64 v;

		if (r->type > TXC_MSG_REQUEST_MAX)
			continue;
		memcpy(&v, (const __u8 *)r + offset, sizeof(v));
		printf("%s{type=\"%s\"} %llu\n", name, request_label(r->type, label),
		       (unsigned long long)v);
	}
}

/*
 * One family, a sample per interface and place.  The hook's only where
 * the daemon counts it (--iface-counters); the queue places always (0 on
 * an interface without txcancel's qdisc).
 */
static void per_place(const struct prom *p)
{
	family("txcancel_interface_aborted_at_frames_total", "counter",
	       "Tagged frames aborted on the interface, by where on the send path: hook, "
	       "enqueue, queued (the cancel's purge), dequeue, reset (a qdisc reset).");
	for (int i = 0; i < p->n_places && i < (int)TXC_MAX_IFACES; i++) {
		const struct txc_places_iface *pi = &p->places[i];

		for (unsigned int w = 0; w < TXC_PLACES; w++) {
			if (w == TXC_AT_HOOK && !(pi->flags & TXC_PLACES_F_HOOK_COUNTED))
				continue;
			printf("txcancel_interface_aborted_at_frames_total{interface=");
			label_value(pi->name, sizeof(pi->name));
			printf(",where=\"%s\"} %llu\n", place_name(w),
			       (unsigned long long)pi->aborted[w]);
		}
	}
}

static void print_prometheus(const struct prom *p)
{
	__u32 n_ifaces = p->st.n_ifaces < TXC_MAX_IFACES ? p->st.n_ifaces : TXC_MAX_IFACES;

	family("txcancel_up", "gauge", "1: txcanceld answered this scrape.");
	printf("txcancel_up 1\n");
	family("txcancel_uptime_seconds", "gauge", "Seconds since txcanceld started.");
	printf("txcancel_uptime_seconds %.3f\n", p->m.uptime_ns / 1e9);

	family("txcancel_leases", "gauge", "Prefixes and sources leased, held or orphaned.");
	printf("txcancel_leases{kind=\"prefix\"} %u\n", p->st.n_prefixes);
	printf("txcancel_leases{kind=\"source\"} %u\n", p->st.n_sources);
	family("txcancel_clients", "gauge", "Connections to txcanceld.");
	printf("txcancel_clients %u\n", p->st.n_clients);

	per_request(p, "txcancel_requests_total",
		    "Requests txcanceld answered, by type; invalid: refused before any handler.",
		    offsetof(struct txc_metrics_request, requests));
	per_request(p, "txcancel_request_errors_total",
		    "Requests txcanceld answered with an error, by type.",
		    offsetof(struct txc_metrics_request, errors));

	family("txcancel_interface_present", "gauge",
	       "1 while a managed interface exists, 0 while txcanceld waits for it.");
	for (__u32 i = 0; i < n_ifaces; i++) {
		printf("txcancel_interface_present{interface=");
		label_value(p->ifaces[i].name, sizeof(p->ifaces[i].name));
		printf("} %d\n", !!(p->ifaces[i].flags & TXC_STATUS_IFACE_PRESENT));
	}
	if (p->n_places >= 0)
		per_place(p);
	/* Without txcanceld --iface-counters they are not counted: leave them out. */
	if (p->m.flags & TXC_METRICS_F_IFACE_COUNTERS) {
		for (size_t f = 0; f < sizeof(iface_families) / sizeof(iface_families[0]); f++)
			per_iface(p, &iface_families[f]);
	}
	per_entry(source_families, sizeof(source_families) / sizeof(source_families[0]),
		  p->sources, p->n_sources, false);
	per_entry(id_families, sizeof(id_families) / sizeof(id_families[0]), p->ids, p->n_ids,
		  true);
}

static int prom_run(struct txc_client *c, struct prom *p)
{
	int err;

	p->n_sources = txc_stats(c, TXC_SCOPE_SOURCE, 0, p->sources, MAX_STATS);
	if (p->n_sources < 0)
		return client_error(c, p->n_sources);
	p->n_ids = txc_stats(c, TXC_SCOPE_ID, 0, p->ids, MAX_STATS);
	if (p->n_ids < 0)
		return client_error(c, p->n_ids);
	err = txc_status(c, &p->st, p->ifaces, TXC_MAX_IFACES, NULL, 0);
	if (err)
		return client_error(c, err);
	err = txc_metrics(c, &p->m, p->mifaces, TXC_MAX_IFACES, p->reqs,
			  TXC_MSG_REQUEST_MAX + 1);
	if (err)
		return client_error(c, err);
	p->n_places = txc_abort_places(c, p->places, TXC_MAX_IFACES);
	if (p->n_places == -EBADMSG)
		p->n_places = -1;
	else if (p->n_places < 0)
		return client_error(c, p->n_places);
	print_prometheus(p);
	return EXIT_OK;
}

int stats_prometheus(void)
{
	struct txc_client *c;
	struct prom *p;
	int ret;

	p = calloc(1, sizeof(*p));
	if (p) {
		p->sources = calloc(MAX_STATS, sizeof(*p->sources));
		p->ids = calloc(MAX_STATS, sizeof(*p->ids));
	}
	if (!p || !p->sources || !p->ids) {
		ret = runtime_error("out of memory");
		goto out;
	}
	c = cli_connect();
	if (!c) {
		ret = EXIT_RUNTIME;
		goto out;
	}
	ret = prom_run(c, p);
	txc_client_close(c);
out:
	if (p) {
		free(p->sources);
		free(p->ids);
	}
	free(p);
	return ret;
}
