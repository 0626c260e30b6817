/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * txcancel batch FILE: operations written one a line as the subcommands
 * are, all parsed before any is sent, then sent in batches of up to
 * TXC_BATCH_MAX.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txcancel.h"

#define BATCH_MAX_TOKENS	64

struct op_list {
	struct op *ops;
	size_t count;
	size_t cap;
};

/* Split @line in place at blanks; a token starting with '#' ends the line. */
static int tokenize(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			return n;
		if (n == max)
			return -E2BIG;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static int op_list_add(struct op_list *list, const struct op *op)
{
	struct op *ops;
	size_t cap;

	if (list->count == list->cap) {
		cap = list->cap ? list->cap * 2 : 256;
		ops = realloc(list->ops, cap * sizeof(*ops));
		if (!ops)
			return -ENOMEM;
		list->ops = ops;
		list->cap = cap;
	}
	list->ops[list->count++] = *op;
	return 0;
}

/* Parse every line before anything is sent: a typo applies nothing. */
static int read_batch(FILE *f, const char *name, struct op_list *list)
{
	char *line = NULL, *tok[BATCH_MAX_TOKENS];
	unsigned int lineno = 0;
	size_t size = 0;
	struct op op;
	int n, ret = EXIT_OK;

	while (getline(&line, &size, f) >= 0) {
		lineno++;
		snprintf(cli.where, sizeof(cli.where), "%s:%u", name, lineno);
		n = tokenize(line, tok, BATCH_MAX_TOKENS);
		if (n == -E2BIG) {
			ret = usage_error("more than %d words on one line", BATCH_MAX_TOKENS);
			break;
		}
		if (!n)
			continue;
		if (parse_op(n, tok, &op)) {
			ret = EXIT_USAGE;
			break;
		}
		op.line = lineno;
		if (op_list_add(list, &op)) {
			ret = runtime_error("out of memory");
			break;
		}
	}
	if (ret == EXIT_OK && ferror(f)) {
		cli.where[0] = '\0';
		ret = runtime_error("reading %s: %s", name, strerror(errno));
	}
	free(line);
	return ret;
}

static int batch_add(struct txc_batch *b, const struct op *op)
{
	switch (op->type) {
	case TXC_MSG_TAG_ADD:
		return txc_batch_tag(b, op->kind, &op->key, op->cancel_id, op->source);
	case TXC_MSG_TAG_DEL:
		return txc_batch_untag(b, op->kind, &op->key);
	case TXC_MSG_CANCEL:
		return txc_batch_cancel(b, op->scope, op->value,
					op->ifname[0] ? op->ifname : NULL, op->timeout_ns);
	default:
		return txc_batch_clear(b, op->scope, op->value);
	}
}

/*
 * The library's error text of a failed batch says which op failed and how
 * many of that batch were applied; the JSON object carries the same as
 * bounds.  Without an op index (the connection failed) the whole batch is
 * in doubt.
 */
static int batch_failed(struct txc_client *c, const char *name, const struct op_list *list,
			size_t done, size_t n, __u32 failed, int err)
{
	const char *text = txc_client_error(c);
	size_t hi = failed < n ? done + failed : done + n;
	char msg[512];

	snprintf(msg, sizeof(msg), "%s", text && text[0] ? text : strerror(-err));
	if (failed < n)
		snprintf(cli.where, sizeof(cli.where), "%s:%u", name,
			 list->ops[done + failed].line);
	else
		snprintf(cli.where, sizeof(cli.where), "%s:%u-%u", name,
			 list->ops[done].line, list->ops[done + n - 1].line);
	if (cli.json) {
		jw_object(NULL);
		jw_printf("error", "%s: %s", cli.where, msg);
		if (failed < n)
			jw_uint("line", list->ops[done + failed].line);
		else
			jw_null("line");
		jw_uint("applied_min", done);
		jw_uint("applied_max", hi);
		jw_uint("total", list->count);
		jw_object_end();
		jw_end();
		return EXIT_RUNTIME;
	}
	runtime_error("%s", msg);
	if (done)
		fprintf(stderr, "txcancel: batch: the %zu operations of the earlier batches "
			"were applied, of %zu in all\n", done, list->count);
	return EXIT_RUNTIME;
}

static int submit_batches(struct txc_client *c, struct txc_batch *b, const char *name,
			  const struct op_list *list, unsigned int *batches)
{
	size_t done = 0, i, n;
	__u32 failed;
	int err;

	while (done < list->count) {
		n = list->count - done;
		if (n > TXC_BATCH_MAX)
			n = TXC_BATCH_MAX;
		txc_batch_reset(b);
		for (i = 0; i < n; i++) {
			err = batch_add(b, &list->ops[done + i]);
			if (err < 0) {
				snprintf(cli.where, sizeof(cli.where), "%s:%u", name,
					 list->ops[done + i].line);
				return runtime_error("%s", txc_last_error()[0] ?
						     txc_last_error() : strerror(-err));
			}
		}
		failed = TXC_FIELD_NONE;
		err = txc_batch_submit(c, b, &failed);
		(*batches)++;
		if (err < 0)
			return batch_failed(c, name, list, done, n, failed, err);
		done += n;
	}
	return EXIT_OK;
}

static void print_batch_done(const char *name, size_t applied, unsigned int batches)
{
	if (cli.json) {
		jw_object(NULL);
		jw_uint("applied", applied);
		jw_uint("batches", batches);
		jw_object_end();
		jw_end();
		return;
	}
	printf("applied %zu operation%s from ", applied, applied == 1 ? "" : "s");
	print_safe(stdout, name, 4096);
	printf(" in %u batch%s\n", batches, batches == 1 ? "" : "es");
}

int do_batch(int argc, char **argv)
{
	struct op_list list = { 0 };
	struct txc_client *c = NULL;
	struct txc_batch *b = NULL;
	unsigned int batches = 0;
	const char *name;
	FILE *f;
	int ret;

	if (argc != 1)
		return usage_error("expected one FILE, or - for standard input");
	if (!strcmp(argv[0], "-")) {
		f = stdin;
		name = "<stdin>";
	} else {
		f = fopen(argv[0], "r");
		if (!f)
			return usage_error("cannot open '%s': %s", argv[0], strerror(errno));
		name = argv[0];
	}
	ret = read_batch(f, name, &list);
	if (f != stdin)
		fclose(f);
	cli.where[0] = '\0';
	if (ret != EXIT_OK)
		goto out;
	if (!list.count) {
		print_batch_done(name, 0, 0);
		goto out;
	}

	b = txc_batch_new();
	if (!b) {
		ret = runtime_error("%s", txc_last_error());
		goto out;
	}
	c = cli_connect();
	if (!c) {
		ret = EXIT_RUNTIME;
		goto out;
	}
	ret = submit_batches(c, b, name, &list, &batches);
	if (ret == EXIT_OK)
		print_batch_done(name, list.count, batches);
out:
	txc_client_close(c);
	txc_batch_free(b);
	free(list.ops);
	return ret;
}
