/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath library's log: every message goes through one sink, stderr
 * (errors and warnings) unless the program sets its own.  libbpf's messages
 * go there too, its warnings as warnings and the rest as debug.
 */
#ifndef TXDP_LOG_H
#define TXDP_LOG_H

#include <stdarg.h>

enum txdp_log_level {
	TXDP_LOG_ERROR,
	TXDP_LOG_WARN,
	TXDP_LOG_INFO,
	TXDP_LOG_DEBUG,
};

/* The levels' names, by level: what a config file or a flag says. */
extern const char *const txdp_log_level_names[TXDP_LOG_DEBUG + 1];
/* The level called @name (its name, or "warn"), or -1. */
int txdp_log_level_parse(const char *name);

typedef void (*txdp_log_fn)(enum txdp_log_level level, const char *fmt, va_list ap);

/* Where the library's messages go (stderr, errors and warnings, by default). */
void txdp_set_log(txdp_log_fn fn);
void txdp_log(enum txdp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
