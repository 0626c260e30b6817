// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Where the library's messages go, libbpf's with them, and the last
 * failure's cause kept on its handle for the caller to pass on.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "dp_internal.h"

const char *const txc_log_level_names[TXC_LOG_DEBUG + 1] = {
	[TXC_LOG_ERROR] = "error",
	[TXC_LOG_WARN] = "warning",
	[TXC_LOG_INFO] = "info",
	[TXC_LOG_DEBUG] = "debug",
};

int txc_log_level_parse(const char *name)
{
	/* "warn" too: the word txcanceld's --log-level has always taken. */
	if (!strcmp(name, "warn"))
		return TXC_LOG_WARN;
	for (int i = 0; i <= TXC_LOG_DEBUG; i++)
		if (!strcmp(name, txc_log_level_names[i]))
			return i;
	return -1;
}

static int log_default_level = TXC_LOG_WARN;

static void log_stderr(enum txc_log_level level, const char *fmt, va_list ap)
{
	if ((int)level > log_default_level)
		return;
	fprintf(stderr, "txcancel: %s: ", txc_log_level_names[level]);
	vfprintf(stderr, fmt, ap);
}

static txc_log_fn log_fn = log_stderr;

void txc_set_log(txc_log_fn fn)
{
	log_fn = fn ? fn : log_stderr;
}

void txc_vlog(enum txc_log_level level, const char *fmt, va_list ap)
{
	log_fn(level, fmt, ap);
}

void txc_log(enum txc_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_fn(level, fmt, ap);
	va_end(ap);
}

static int libbpf_quiet;

void txc_libbpf_quiet(bool quiet)
{
	libbpf_quiet += quiet ? 1 : -1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings carry the verifier log and pinning conflicts. */
	if (level == LIBBPF_WARN && !libbpf_quiet)
		log_fn(TXC_LOG_WARN, fmt, ap);
	else
		log_fn(TXC_LOG_DEBUG, fmt, ap);
	return 0;
}

void txc_dp_libbpf_log(void)
{
	libbpf_set_print(libbpf_print);
}

/* --- the last error ------------------------------------------------------- */

int txc_dp_fail(struct txc_dp *dp, int err, const char *fmt, ...)
{
	char text[TXC_DP_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	txc_log(TXC_LOG_ERROR, "%s\n", text);
	if (!dp)
		return err;
	pthread_mutex_lock(&dp->err_lock);
	dp->err_num = err;
	memcpy(dp->err_text, text, sizeof(text));
	pthread_mutex_unlock(&dp->err_lock);
	return err;
}

void txc_dp_error_clear(struct txc_dp *dp)
{
	pthread_mutex_lock(&dp->err_lock);
	dp->err_num = 0;
	pthread_mutex_unlock(&dp->err_lock);
}

const char *txc_dp_strerror(struct txc_dp *dp, int err)
{
	const char *text = strerror(err < 0 ? -err : err);

	if (!dp)
		return text;
	pthread_mutex_lock(&dp->err_lock);
	/* Only the cause of this very failure: another errno means another one. */
	if (err && dp->err_num == err)
		text = dp->err_text;
	snprintf(dp->err_read, sizeof(dp->err_read), "%s", text);
	pthread_mutex_unlock(&dp->err_lock);
	return dp->err_read;
}
