/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcancel: the command-line client of txcanceld.  Shared declarations of
 * the tool's parts: the global options, error reporting, the JSON writer,
 * argument parsers, the explain frame builder and the subcommands.
 */
#ifndef TXCANCEL_TOOL_H
#define TXCANCEL_TOOL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "txcancel/txcancel.h"

#define TXCANCEL_VERSION	"0.1.0"

/* Exit codes: documented in docs/txcancel.md, keep them in step. */
#define EXIT_OK		0
#define EXIT_RUNTIME	1	/* the daemon refused, or a runtime failure */
#define EXIT_USAGE	2	/* bad arguments: nothing was sent */

/* Global options and the name of the running subcommand (for messages). */
struct txc_cli {
	const char *socket_path;	/* resolved: -s, $TXCANCEL_SOCKET or default */
	bool json;
	bool pretty;
	char cmd[32];			/* e.g. "prefix alloc" */
	/* Where the arguments came from, put before messages: "FILE:LINE". */
	char where[256];
};

extern struct txc_cli cli;

/* ---- errors (txcancel.c) ------------------------------------------------- */

/*
 * Prints "txcancel: <cmd>: <message>" to stderr, or {"error": ...} to
 * stdout in JSON mode, and returns @ret.  Call it through the macros below,
 * which name the kind of error by the value they return.
 */
int cli_error(int ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define usage_error(...)	cli_error(EXIT_USAGE, __VA_ARGS__)
#define runtime_error(...)	cli_error(EXIT_RUNTIME, __VA_ARGS__)
/* A usage error that returns -EINVAL, for parsers. */
#define arg_error(...)		cli_error(-EINVAL, __VA_ARGS__)
/* A failed library call: the client's error text, else strerror(-err). */
int client_error(struct txc_client *c, int err);
/* Append " to <cmd>" to the current command name, e.g. "prefix" -> "prefix alloc". */
void cli_subcommand(const char *word);

/* Connect to the daemon; on failure the error is reported and NULL returned. */
struct txc_client *cli_connect(void);

/* True if any argument is -h or --help. */
bool wants_help(int argc, char **argv);
/* Print the usage of subcommand @name to @f; returns false if there is none. */
bool print_cmd_usage(FILE *f, const char *name);

/* ---- JSON writer (txcancel_json.c) --------------------------------------- */

/*
 * One writer on stdout.  Every call that takes @name writes a member of the
 * enclosing object; pass NULL inside an array or for the top-level value.
 * jw_end() finishes the top-level value with a newline.
 */
void jw_object(const char *name);
void jw_object_end(void);
void jw_array(const char *name);
void jw_array_end(void);
void jw_string(const char *name, const char *s);
/* A string of at most @max bytes (fixed-size, maybe unterminated fields). */
void jw_string_n(const char *name, const char *s, size_t max);
void jw_printf(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jw_uint(const char *name, __u64 v);
void jw_bool(const char *name, bool v);
void jw_null(const char *name);
void jw_end(void);
/* Write @s escaped as a JSON string (with quotes) to @f. */
void json_escape(FILE *f, const char *s, size_t max);

/* ---- human output helpers (txcancel_json.c) ------------------------------ */

/*
 * Up to @max bytes of @s with control bytes and invalid UTF-8 shown as \xNN,
 * into @dst (cut short to fit @size), or printed to @f.
 */
void sanitize(char *dst, size_t size, const char *s, size_t max);
void print_safe(FILE *f, const char *s, size_t max);

/* ---- argument parsing (txcancel_parse.c) --------------------------------- */

/*
 * Parsers return 0 or -EINVAL after reporting a usage error that names @what
 * and the argument; the caller returns EXIT_USAGE.
 */
int parse_u64(const char *s, const char *what, __u64 max, __u64 *out);
int parse_u32(const char *s, const char *what, __u32 *out);
int parse_id(const char *s, __u32 *id);
int parse_prefix(const char *s, __u32 *prefix);
int parse_source(const char *s, __u32 *source);
int parse_duration(const char *s, __u64 *ns);
int parse_ifname(const char *s, char ifname[16]);
int parse_scope(const char *s, __u8 *scope);
int parse_ip_proto(const char *s, __u8 *proto);
/* Reports its own errors; @what names the argument ("src", "dst"). */
int parse_endpoint(const char *s, const char *what, __u8 *family, __u8 addr[16],
		   __be16 *port, bool *has_port);
int parse_cgroup(const char *s, __u64 *cgroup_id);

/*
 * The value after the keyword at argv[*i]; advances *i past both.  NULL
 * (after reporting that the keyword needs @expect) if there is none.
 */
const char *take_value(int argc, char **argv, int *i, const char *expect);

/* Protocols whose header starts with two ports (as the datapath reads them). */
bool proto_has_ports(__u8 proto);

/* ---- names of codes and formatting (txcancel_parse.c) -------------------- */

const char *scope_name(__u8 scope);
const char *tag_kind_name(__u8 kind);
const char *hook_name(__u8 hook);
const char *where_name(__u8 where);
const char *place_name(unsigned int place);
const char *record_status_name(__u32 status);
const char *verdict_name(__u8 verdict);
/* "udp", "tcp", ... or the number. */
const char *proto_name(__u8 proto, char *buf, size_t len);
/* "198.18.0.1:53", "[2001:db8::1]:53", without the port if @with_port is false. */
void format_endpoint(char *buf, size_t len, __u8 family, const __u8 addr[16],
		     __be16 port, bool with_port);

#define ENDPOINT_STRLEN	64	/* "[" INET6_ADDRSTRLEN "]:65535" fits */

/* The four counters as members of the current object (stats, clear). */
void jw_counts(const struct txc_counters *c);
/* The frame summary as member @name of an object (explain, watch). */
void jw_frame_summary(const char *name, const struct txc_frame_summary *s);
/* "udp 198.18.0.1:4000 -> 198.18.0.2:5001" or "ethertype 0x0806". */
void format_frame_summary(char *buf, size_t len, const struct txc_frame_summary *s);

/* ---- explain frames: struct frame_spec, frame_build() --------------------- */

#include "../common/frame.h"

/* ---- what the request/reply subcommands share (txcancel_admin.c) --------- */

/* EXIT_OK, or a usage error naming argv[@from] if there is one. */
int no_more_args(int argc, char **argv, int from);
/* Connect, run @fn, close: the shape of every request/reply subcommand. */
int with_client(int (*fn)(struct txc_client *c, void *arg), void *arg);
/* "1d02h03m04s", leading zero units left out. */
void format_uptime(char *buf, size_t len, __u64 ns);
/* Entries of a STATS reply: what fits in TXC_MSG_MAX. */
#define MAX_STATS	((TXC_MSG_MAX - sizeof(struct txc_msg_hdr) - \
			  sizeof(struct txc_rep_list)) / sizeof(struct txc_stats_entry))

/* ---- operations on the datapath (txcancel_ops.c) ------------------------ */

/* One tag add/del, cancel or clear, as parsed from its words. */
struct op {
	__u8 type;		/* TXC_MSG_TAG_ADD, _TAG_DEL, _CANCEL, _CLEAR */
	__u8 kind;		/* tags: TXC_TAG_* */
	__u8 scope;		/* cancel, clear: TXC_SCOPE_* */
	union txc_tag_key key;
	__u32 cancel_id;
	__u32 source;
	__u32 value;
	char ifname[16];	/* cancel: "" for every interface */
	__u64 timeout_ns;
	unsigned int line;	/* batch: where the op was written */
};

/*
 * Parse "tag add|del ...", "cancel ..." or "clear ..." (a batch line);
 * reports its own errors.
 */
int parse_op(int argc, char **argv, struct op *op);

/* ---- subcommands --------------------------------------------------------- */

int do_hello(int argc, char **argv);
int do_prefix(int argc, char **argv);
int do_source(int argc, char **argv);
int do_tag(int argc, char **argv);
int do_cancel(int argc, char **argv);
int do_clear(int argc, char **argv);
int do_count(int argc, char **argv);
int do_stats(int argc, char **argv);
/* txcancel stats --prometheus (txcancel_prom.c). */
int stats_prometheus(void);
int do_batch(int argc, char **argv);
int do_watch(int argc, char **argv);
int do_explain(int argc, char **argv);
int do_status(int argc, char **argv);

#endif /* TXCANCEL_TOOL_H */
