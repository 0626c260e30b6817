/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * watch: subscribe to sources and print their abort completions as they
 * arrive (ProtocolSendNetBufferListsComplete seen from a terminal), with a
 * line whenever a source's account of lost reports changes and a summary
 * at the end.
 */
#define _GNU_SOURCE		/* ppoll */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txcancel.h"
#include "txcancel_pcapng.h"

#define NS_PER_SEC	1000000000ULL
/* A name lookup miss refreshes the interface list at most this often. */
#define NAMES_REFRESH_NS	NS_PER_SEC
/* Bytes of each frame -w asks for unless --snaplen says otherwise. */
#define WATCH_SNAPLEN_DEFAULT	128u

struct source_state {
	bool watched;		/* subscribed or opened by this watch */
	bool seen;		/* a batch arrived */
	__u64 records;
	__u64 first_seq, last_seq;
	struct txc_ev_completions acct;
};

struct iface_name {
	__u32 ifindex;
	char name[16];
};

struct watch {
	struct txc_client *c;
	__u64 limit;		/* records; 0: no limit */
	__u64 timeout_ns;	/* 0: no limit */
	__u32 *sources;
	int n_sources;
	bool open;
	const char *pcap_path;	/* -w: NULL, a file or "-" (stdout) */
	bool pcap_to_stdout;	/* -w -: no text on stdout */
	__u32 snaplen;
	struct pcapng pcap;
	int pcap_err;		/* the first write error, -errno */

	__u64 records;
	bool done;
	__s64 mono_to_real_ns;
	__u64 started_ns;
	struct source_state *src;	/* TXC_MAX_SOURCES entries */
	struct iface_name names[TXC_MAX_IFACES];
	int n_names;
	bool names_stale;
	__u64 names_at_ns;
	bool warned_version;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* ---- arguments ----------------------------------------------------------- */

static bool is_listed(const __u32 *list, int n, __u32 v)
{
	int i;

	for (i = 0; i < n; i++)
		if (list[i] == v)
			return true;
	return false;
}

static int parse_watch(int argc, char **argv, struct watch *w)
{
	const char *v;
	int i = 0;

	while (i < argc) {
		if (!strcmp(argv[i], "-c")) {
			if (!(v = take_value(argc, argv, &i, "a COUNT")) ||
			    parse_u64(v, "count", ~0ULL, &w->limit))
				return -EINVAL;
			if (!w->limit)
				return arg_error("count 0: expected at least 1 record");
		} else if (!strcmp(argv[i], "-t")) {
			if (!(v = take_value(argc, argv, &i, "SECONDS (or a DURATION: 500ms, 2m)")) ||
			    parse_duration(v, &w->timeout_ns))
				return -EINVAL;
		} else if (!strcmp(argv[i], "-o")) {
			w->open = true;
			i++;
		} else if (!strcmp(argv[i], "-w")) {
			if (!(w->pcap_path = take_value(argc, argv, &i, "a FILE (- for stdout)")))
				return -EINVAL;
		} else if (!strcmp(argv[i], "--snaplen")) {
			if (!(v = take_value(argc, argv, &i, "a length in bytes")) ||
			    parse_u32(v, "snaplen", &w->snaplen))
				return -EINVAL;
			if (w->snaplen < 1 || w->snaplen > TXC_CAPTURE_MAX)
				return arg_error("snaplen %u: expected 1..%u bytes", w->snaplen,
						 TXC_CAPTURE_MAX);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return arg_error("option '%s' is not known; expected -c COUNT, "
					 "-t SECONDS, -o, -w FILE or --snaplen N", argv[i]);
		} else {
			if (parse_source(argv[i], &w->sources[w->n_sources]))
				return -EINVAL;
			/* Subscribing twice would be refused: once is what is meant. */
			if (!is_listed(w->sources, w->n_sources, w->sources[w->n_sources]))
				w->n_sources++;
			i++;
		}
	}
	if (w->snaplen && !w->pcap_path)
		return arg_error("--snaplen without -w FILE: the bytes go only to a capture file");
	if (!w->snaplen)
		w->snaplen = WATCH_SNAPLEN_DEFAULT;
	return 0;
}

/* ---- interface names ----------------------------------------------------- */

/* The daemon's own view: its ifindexes are those of its network namespace. */
static void refresh_names(struct watch *w)
{
	struct txc_status_iface ifaces[TXC_MAX_IFACES];
	struct txc_rep_status st;
	int i, n;

	w->names_stale = false;
	w->names_at_ns = clock_ns(CLOCK_MONOTONIC);
	if (txc_status(w->c, &st, ifaces, TXC_MAX_IFACES, NULL, 0) < 0)
		return;
	n = st.n_ifaces < TXC_MAX_IFACES ? st.n_ifaces : TXC_MAX_IFACES;
	w->n_names = 0;
	for (i = 0; i < n; i++) {
		if (!ifaces[i].ifindex)
			continue;
		w->names[w->n_names].ifindex = ifaces[i].ifindex;
		sanitize(w->names[w->n_names].name, sizeof(w->names[0].name),
			 ifaces[i].name, sizeof(ifaces[i].name));
		w->n_names++;
	}
}

static const char *iface_name(struct watch *w, __u32 ifindex)
{
	int i;

	for (i = 0; i < w->n_names; i++)
		if (w->names[i].ifindex == ifindex)
			return w->names[i].name;
	w->names_stale = true;
	return NULL;
}

/* ---- output -------------------------------------------------------------- */

/* Local wall-clock time of a CLOCK_MONOTONIC stamp: "12:00:01.123456". */
static void format_time(const struct watch *w, __u64 mono_ns, char *buf, size_t len,
			bool utc)
{
	__s64 real = (__s64)mono_ns + w->mono_to_real_ns;
	time_t secs = real / (__s64)NS_PER_SEC;
	struct tm tm;
	size_t n;

	if (!(utc ? gmtime_r(&secs, &tm) : localtime_r(&secs, &tm))) {
		snprintf(buf, len, "-");
		return;
	}
	n = strftime(buf, len, utc ? "%Y-%m-%dT%H:%M:%S" : "%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06llu%s",
		 (unsigned long long)(real % (__s64)NS_PER_SEC / 1000), utc ? "Z" : "");
}

static void record_json(struct watch *w, const struct txc_abort_record *r, const char *dev)
{
	char when[48];

	format_time(w, r->tstamp_ns, when, sizeof(when), true);
	jw_object(NULL);
	jw_string("type", "completion");
	jw_string("time", when);
	jw_uint("tstamp_ns", r->tstamp_ns);
	jw_uint("version", r->hdr.version);
	jw_uint("status", r->hdr.status);
	jw_string("status_name", record_status_name(r->hdr.status));
	jw_uint("source", r->source);
	jw_uint("seq", r->seq);
	jw_uint("id", r->cancel_id);
	jw_uint("ifindex", r->ifindex);
	if (dev)
		jw_string("dev", dev);
	else
		jw_null("dev");
	jw_string("hook", hook_name(r->hook));
	jw_string("tag_kind", tag_kind_name(r->tag_kind));
	jw_string("scope", scope_name(r->scope));
	jw_string("where", where_name(r->where));
	jw_uint("len", r->len);
	jw_uint("gso_segs", r->gso_segs);
	jw_uint("gso_size", r->gso_size);
	jw_frame_summary("frame", &r->frame);
	if (r->hdr.version == TXC_RECORD_VERSION_CAPTURE)
		jw_uint("cap_len", r->cap_len);
	jw_object_end();
	jw_end();
}

static void print_record(struct watch *w, const struct txc_abort_record *r)
{
	const char *dev = iface_name(w, r->ifindex);
	char when[32], ifbuf[48], summary[160];

	if (r->hdr.version != TXC_RECORD_VERSION &&
	    r->hdr.version != TXC_RECORD_VERSION_CAPTURE && !w->warned_version) {
		w->warned_version = true;
		fprintf(stderr, "txcancel: watch: records of version %u, this tool knows "
			"version %u: fields may be misread\n", r->hdr.version, TXC_RECORD_VERSION);
	}
	if (cli.json) {
		record_json(w, r, dev);
		return;
	}
	if (dev)
		snprintf(ifbuf, sizeof(ifbuf), "dev %s ifindex %u", dev, r->ifindex);
	else
		snprintf(ifbuf, sizeof(ifbuf), "ifindex %u", r->ifindex);
	format_time(w, r->tstamp_ns, when, sizeof(when), false);
	format_frame_summary(summary, sizeof(summary), &r->frame);
	printf("%s source %u seq %llu id 0x%08x %s %s at %s tag %s scope %s len %u segs %u %s "
	       "status 0x%08X %s\n", when, r->source, (unsigned long long)r->seq, r->cancel_id,
	       ifbuf, hook_name(r->hook), where_name(r->where), tag_kind_name(r->tag_kind),
	       scope_name(r->scope), r->len, r->gso_segs, summary, r->hdr.status,
	       record_status_name(r->hdr.status));
}

/* A source's account of its completions, as members (account lines, summary). */
static void jw_account(const struct txc_ev_completions *acct)
{
	jw_uint("aborted", acct->aborted);
	jw_uint("delivered", acct->delivered);
	jw_uint("ring_lost", acct->ring_lost);
	jw_uint("backlog_lost", acct->backlog_lost);
}

static void print_account(struct watch *w, const struct txc_ev_completions *ev,
			  const struct txc_ev_completions *prev)
{
	char when[48];

	format_time(w, clock_ns(CLOCK_MONOTONIC), when, sizeof(when), cli.json);
	if (cli.json) {
		jw_object(NULL);
		jw_string("type", "account");
		jw_string("time", when);
		jw_uint("source", ev->source);
		jw_account(ev);
		jw_object_end();
		jw_end();
		return;
	}
	printf("%s source %u account: ring_lost %llu (+%llu) backlog_lost %llu (+%llu) "
	       "aborted %llu delivered %llu\n", when, ev->source,
	       (unsigned long long)ev->ring_lost,
	       (unsigned long long)(ev->ring_lost - prev->ring_lost),
	       (unsigned long long)ev->backlog_lost,
	       (unsigned long long)(ev->backlog_lost - prev->backlog_lost),
	       (unsigned long long)ev->aborted, (unsigned long long)ev->delivered);
}

/* ---- capture file ---------------------------------------------------------- */

/* One packet per completion: its bytes, wall time, and the record in words. */
static void pcap_record(struct watch *w, const struct txc_abort_record *r)
{
	const char *dev = iface_name(w, r->ifindex);
	char comment[256];
	const __u8 *bytes;
	__u32 n;

	if (!w->pcap_path || w->pcap_err)
		return;
	bytes = txc_record_bytes(w->c, r, &n);
	snprintf(comment, sizeof(comment), "txcancel id 0x%08x source %u seq %llu "
		 "status 0x%08X %s hook %s where %s tag %s scope %s dev %s ifindex %u",
		 r->cancel_id, r->source, (unsigned long long)r->seq, r->hdr.status,
		 record_status_name(r->hdr.status), hook_name(r->hook), where_name(r->where),
		 tag_kind_name(r->tag_kind), scope_name(r->scope), dev ? dev : "-", r->ifindex);
	w->pcap_err = pcapng_packet(&w->pcap, r->ifindex, dev,
				    (__u64)((__s64)r->tstamp_ns + w->mono_to_real_ns),
				    bytes, bytes ? n : 0, r->len, comment);
}

/*
 * Open the capture file and ask every watched source for its frames' bytes.
 * With "-w -" stdout is the capture: the text goes nowhere.
 */
static int pcap_start(struct watch *w)
{
	int err;

	if (!w->pcap_path)
		return EXIT_OK;
	err = pcapng_open(&w->pcap, w->pcap_path, w->snaplen);
	if (err)
		return runtime_error("watch: cannot write %s: %s",
				     strcmp(w->pcap_path, "-") ? w->pcap_path : "stdout",
				     strerror(-err));
	for (__u32 s = 1; s < TXC_MAX_SOURCES; s++) {
		if (!w->src[s].watched)
			continue;
		err = txc_capture(w->c, s, w->snaplen);
		if (err < 0)
			return client_error(w->c, err);
	}
	return EXIT_OK;
}

/* ---- completions --------------------------------------------------------- */

static void count_record(struct source_state *s, const struct txc_abort_record *r)
{
	if (!s->records || r->seq < s->first_seq)
		s->first_seq = r->seq;
	if (r->seq > s->last_seq)
		s->last_seq = r->seq;
	s->records++;
}

static void on_batch(void *ctx, const struct txc_ev_completions *ev,
		     const struct txc_abort_record *recs)
{
	struct txc_ev_completions zero = { .source = ev->source };
	struct watch *w = ctx;
	struct source_state *s = NULL;
	const struct txc_ev_completions *prev = &zero;
	__u32 i;

	if (TXC_SOURCE_VALID(ev->source)) {
		s = &w->src[ev->source];
		if (s->seen)
			prev = &s->acct;
	}
	for (i = 0; i < ev->count && !w->done; i++) {
		pcap_record(w, &recs[i]);
		if (!w->pcap_to_stdout)
			print_record(w, &recs[i]);
		if (s)
			count_record(s, &recs[i]);
		w->records++;
		if (w->limit && w->records >= w->limit)
			w->done = true;
	}
	/* A batch without records exists only to report a changed account. */
	if (!w->pcap_to_stdout && (!ev->count || ev->ring_lost != prev->ring_lost ||
				   ev->backlog_lost != prev->backlog_lost))
		print_account(w, ev, prev);
	if (s) {
		s->seen = true;
		s->acct = *ev;
	}
}

/* ---- summary ------------------------------------------------------------- */

static void summary_json(const struct watch *w, const char *why)
{
	const struct source_state *s;
	__u32 i;

	jw_object(NULL);
	jw_string("type", "summary");
	jw_string("end", why);
	jw_uint("records", w->records);
	jw_uint("elapsed_ns", clock_ns(CLOCK_MONOTONIC) - w->started_ns);
	jw_array("sources");
	for (i = 1; i < TXC_MAX_SOURCES; i++) {
		s = &w->src[i];
		if (!s->watched && !s->seen)
			continue;
		jw_object(NULL);
		jw_uint("source", i);
		jw_uint("records", s->records);
		jw_uint("first_seq", s->first_seq);
		jw_uint("last_seq", s->last_seq);
		if (s->seen)
			jw_account(&s->acct);
		jw_object_end();
	}
	jw_array_end();
	jw_object_end();
	jw_end();
}

static void print_summary(const struct watch *w, const char *why)
{
	__u64 elapsed = clock_ns(CLOCK_MONOTONIC) - w->started_ns;
	const struct source_state *s;
	__u64 span;
	__u32 i;

	if (cli.json) {
		summary_json(w, why);
		return;
	}
	printf("--- %llu record%s in %llu.%03llu s (%s)\n", (unsigned long long)w->records,
	       w->records == 1 ? "" : "s", (unsigned long long)(elapsed / NS_PER_SEC),
	       (unsigned long long)(elapsed % NS_PER_SEC / 1000000), why);
	for (i = 1; i < TXC_MAX_SOURCES; i++) {
		s = &w->src[i];
		if (!s->watched && !s->seen)
			continue;
		if (!s->seen) {
			printf("source %u: no completions\n", i);
			continue;
		}
		printf("source %u: %llu records", i, (unsigned long long)s->records);
		if (s->records) {
			span = s->last_seq - s->first_seq + 1;
			printf(", seq %llu..%llu", (unsigned long long)s->first_seq,
			       (unsigned long long)s->last_seq);
			if (span > s->records)
				printf(" (%llu not seen)", (unsigned long long)(span - s->records));
		}
		printf("; aborted %llu, delivered %llu, ring_lost %llu, backlog_lost %llu\n",
		       (unsigned long long)s->acct.aborted, (unsigned long long)s->acct.delivered,
		       (unsigned long long)s->acct.ring_lost,
		       (unsigned long long)s->acct.backlog_lost);
	}
}

/* ---- the loop ------------------------------------------------------------ */

static int watch_start(struct watch *w)
{
	__u32 source;
	int i, err;

	for (i = 0; i < w->n_sources; i++) {
		err = txc_subscribe(w->c, w->sources[i]);
		if (err < 0)
			return client_error(w->c, err);
		w->src[w->sources[i]].watched = true;
	}
	if (w->open) {
		err = txc_source_open(w->c, &source);
		if (err < 0)
			return client_error(w->c, err);
		w->src[source % TXC_MAX_SOURCES].watched = true;
		if (cli.json) {
			jw_object(NULL);
			jw_string("type", "opened");
			jw_uint("source", source);
			jw_object_end();
			jw_end();
		} else {
			fprintf(stderr, "txcancel: watch: opened source %u; it closes when "
				"watch ends\n", source);
		}
	}
	if (!cli.json && !w->n_sources && !w->open)
		fprintf(stderr, "txcancel: watch: no SOURCE given and no -o: only sources "
			"this connection opens would be seen, and it opens none\n");
	refresh_names(w);
	return pcap_start(w);
}

/* Wait for the socket or a signal; 0 on timeout, 1 readable, -errno. */
static int wait_event(struct watch *w, const sigset_t *unblocked)
{
	struct pollfd pfd = { .fd = txc_client_fd(w->c), .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	__u64 now, left;
	int n;

	if (w->timeout_ns) {
		now = clock_ns(CLOCK_MONOTONIC) - w->started_ns;
		if (now >= w->timeout_ns)
			return 0;
		left = w->timeout_ns - now;
		ts.tv_sec = left / NS_PER_SEC;
		ts.tv_nsec = left % NS_PER_SEC;
		tsp = &ts;
	}
	/* The signals are blocked but here: none is lost between check and wait. */
	n = ppoll(&pfd, 1, tsp, unblocked);
	if (n < 0)
		return errno == EINTR ? 1 : -errno;
	return n;
}

static int watch_loop(struct watch *w, const sigset_t *unblocked, const char **why)
{
	int n;

	for (;;) {
		n = txc_read_completions(w->c, on_batch, w, 0);
		if (n == -ECONNRESET) {
			*why = "the daemon closed the connection";
			return EXIT_RUNTIME;
		}
		if (n < 0)
			return client_error(w->c, n);
		/* Per batch, so that a pipe's reader sees the frames at once. */
		if (w->pcap_path && !w->pcap_err)
			w->pcap_err = pcapng_flush(&w->pcap);
		if (w->pcap_err == -EPIPE) {
			*why = "the capture's reader closed the pipe";
			return EXIT_OK;
		}
		if (w->pcap_err)
			return runtime_error("watch: writing %s: %s", w->pcap_to_stdout ?
					     "stdout" : w->pcap_path, strerror(-w->pcap_err));
		if (fflush(stdout) || ferror(stdout))
			return EXIT_RUNTIME;
		if (w->done) {
			*why = "count reached";
			return EXIT_OK;
		}
		if (stop_signal) {
			*why = "interrupted";
			return EXIT_OK;
		}
		if (w->names_stale &&
		    clock_ns(CLOCK_MONOTONIC) - w->names_at_ns >= NAMES_REFRESH_NS) {
			/* Completions that arrive meanwhile are kept: read again first. */
			refresh_names(w);
			continue;
		}
		n = wait_event(w, unblocked);
		if (n < 0)
			return runtime_error("waiting for completions: %s", strerror(-n));
		if (!n) {
			*why = "time limit";
			return EXIT_OK;
		}
	}
}

static int watch_run(struct watch *w)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, unblocked;
	const char *why = NULL;
	int ret;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A capture's reader that goes away is an end, seen as EPIPE. */
	if (w->pcap_path)
		signal(SIGPIPE, SIG_IGN);

	w->c = cli_connect();
	if (!w->c)
		return EXIT_RUNTIME;
	w->started_ns = clock_ns(CLOCK_MONOTONIC);
	w->mono_to_real_ns = (__s64)clock_ns(CLOCK_REALTIME) - (__s64)w->started_ns;
	ret = watch_start(w);
	if (ret == EXIT_OK) {
		if (!cli.json || w->pcap_to_stdout)
			fprintf(stderr, "txcancel: watch: waiting for completions; Ctrl-C stops\n");
		ret = watch_loop(w, &unblocked, &why);
		if (why && w->pcap_to_stdout)
			fprintf(stderr, "txcancel: watch: %llu records (%s)\n",
				(unsigned long long)w->records, why);
		else if (why)
			print_summary(w, why);
		if (why && ret != EXIT_OK)
			runtime_error("%s", why);
	}
	if (w->pcap_err == -EPIPE)
		pcapng_abandon(&w->pcap);
	if (w->pcap_path && pcapng_close(&w->pcap) && ret == EXIT_OK && !w->pcap_err)
		ret = runtime_error("watch: closing %s failed", w->pcap_path);
	txc_client_close(w->c);
	return ret;
}

int do_watch(int argc, char **argv)
{
	struct watch w;
	int ret;

	memset(&w, 0, sizeof(w));
	w.sources = calloc(argc ? argc : 1, sizeof(*w.sources));
	w.src = calloc(TXC_MAX_SOURCES, sizeof(*w.src));
	if (!w.sources || !w.src) {
		ret = runtime_error("out of memory");
		goto out;
	}
	if (parse_watch(argc, argv, &w)) {
		ret = EXIT_USAGE;
		goto out;
	}
	w.pcap_to_stdout = w.pcap_path && !strcmp(w.pcap_path, "-");
	ret = watch_run(&w);
out:
	free(w.sources);
	free(w.src);
	return ret;
}
