/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath library's log: every message goes through one sink, stderr
 * (errors and warnings) unless the program sets its own.  libbpf's messages
 * go there too, its warnings as warnings and the rest as debug.
 */
#ifndef TXC_DP_LOG_H
#define TXC_DP_LOG_H

#include <stdarg.h>

enum txc_log_level {
	TXC_LOG_ERROR,
	TXC_LOG_WARN,
	TXC_LOG_INFO,
	TXC_LOG_DEBUG,
};

/* The levels' names, by level: what a config file or a flag says. */
extern const char *const txc_log_level_names[TXC_LOG_DEBUG + 1];
/* The level called @name (its name, or "warn"), or -1. */
int txc_log_level_parse(const char *name);

typedef void (*txc_log_fn)(enum txc_log_level level, const char *fmt, va_list ap);

/* Where the library's messages go (stderr, errors and warnings, by default). */
void txc_set_log(txc_log_fn fn);
void txc_log(enum txc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
