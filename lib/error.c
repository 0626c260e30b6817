/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Error texts: per client, and per thread for failures that have no client. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* The library's only mutable state outside a client. */
static __thread char last_error[TXCL_ERR_MAX];

int txcl_fail(char *buf, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, TXCL_ERR_MAX, fmt, ap);
	va_end(ap);
	return err;
}

char *txcl_tls_err(void)
{
	return last_error;
}

int txcl_break(struct txc_client *c, int err)
{
	c->broken = err;
	memcpy(c->broken_err, c->err, sizeof(c->broken_err));
	return err;
}

int txcl_enter(struct txc_client *c)
{
	if (!c)
		return -EINVAL;
	if (c->broken)
		return txcl_fail(c->err, c->broken, "%s (the connection is unusable: "
				 "reconnect, or close the client and connect again)", c->broken_err);
	return 0;
}

int txcl_enter_arg(struct txc_client *c, const char *fn, const char *name, const void *arg)
{
	int err = txcl_enter(c);

	if (!err && !arg)
		err = txcl_fail(c->err, -EINVAL, "%s: %s is NULL", fn, name);
	return err;
}

/*
 * The daemon's sentences end up on terminals and in logs: a control byte in
 * one must not become an escape sequence there.
 */
void txcl_copy_text(char *buf, const char *text, size_t max)
{
	size_t n = strnlen(text, max);

	if (n >= TXCL_ERR_MAX)
		n = TXCL_ERR_MAX - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = text[i];

		buf[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	buf[n] = '\0';
}

const char *txc_client_error(const struct txc_client *client)
{
	return client ? client->err : "";
}

const char *txc_last_error(void)
{
	return last_error;
}
