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

const char *const txdp_log_level_names[TXDP_LOG_DEBUG + 1] = {
	[TXDP_LOG_ERROR] = "error",
	[TXDP_LOG_WARN] = "warning",
	[TXDP_LOG_INFO] = "info",
	[TXDP_LOG_DEBUG] = "debug",
};

int txdp_log_level_parse(const char *name)
{
	/* "warn" too: the word txcanceld's --log-level has always taken. */
	if (!strcmp(name, "warn"))
		return TXDP_LOG_WARN;
	for (int i = 0; i <= TXDP_LOG_DEBUG; i++)
		if (!strcmp(name, txdp_log_level_names[i]))
			return i;
	return -1;
}

static int log_default_level = TXDP_LOG_WARN;

static void log_stderr(enum txdp_log_level level, const char *fmt, va_list ap)
{
	if ((int)level > log_default_level)
		return;
	fprintf(stderr, "txcancel: %s: ", txdp_log_level_names[level]);
	vfprintf(stderr, fmt, ap);
}

static txdp_log_fn log_fn = log_stderr;

void txdp_set_log(txdp_log_fn fn)
{
	log_fn = fn ? fn : log_stderr;
}

void txdp_vlog(enum txdp_log_level level, const char *fmt, va_list ap)
{
	log_fn(level, fmt, ap);
}

void txdp_log(enum txdp_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_fn(level, fmt, ap);
	va_end(ap);
}

static int libbpf_quiet;

void txdp_libbpf_quiet(bool quiet)
{
	libbpf_quiet += quiet ? 1 : -1;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf's warnings carry the verifier log and pinning conflicts. */
	if (level == LIBBPF_WARN && !libbpf_quiet)
		log_fn(TXDP_LOG_WARN, fmt, ap);
	else
		log_fn(TXDP_LOG_DEBUG, fmt, ap);
	return 0;
}

void txdp_libbpf_log(void)
{
	libbpf_set_print(libbpf_print);
}

/* --- the last error ------------------------------------------------------- */

int txdp_fail(struct txdp *dp, int err, const char *fmt, ...)
{
	char text[TXDP_ERR_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	txdp_log(TXDP_LOG_ERROR, "%s\n", text);
	if (!dp)
		return err;
	pthread_mutex_lock(&dp->err_lock);
	dp->err_num = err;
	memcpy(dp->err_text, text, sizeof(text));
	pthread_mutex_unlock(&dp->err_lock);
	return err;
}

void txdp_error_clear(struct txdp *dp)
{
	pthread_mutex_lock(&dp->err_lock);
	dp->err_num = 0;
	pthread_mutex_unlock(&dp->err_lock);
}

const char *txdp_strerror(struct txdp *dp, int err)
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
