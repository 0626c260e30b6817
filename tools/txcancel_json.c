/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A small JSON writer on stdout, and the string escaping shared with human
 * output.  Strings printed by the tool come from the daemon (error texts,
 * interface names, paths) and may hold any byte: JSON output escapes control
 * characters and replaces invalid UTF-8 with U+FFFD so that every line stays
 * valid JSON; human output shows such bytes as \xNN so that they cannot
 * drive the terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "txcancel.h"

/* The tool nests at most object > array > object > object; room to spare. */
#define JW_MAX_DEPTH	16

static struct {
	int depth;
	/* No member written yet at this depth: no comma before the next. */
	bool empty[JW_MAX_DEPTH + 1];
} jw;

/*
 * Length of the valid UTF-8 sequence starting at @s (at most @avail bytes),
 * 0 if it is not one.  Overlong forms, surrogates and code points past
 * U+10FFFF are invalid (RFC 3629).
 */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n > avail)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void json_escape(FILE *f, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strnlen(str, max), i = 0, n;

	fputc('"', f);
	while (i < len) {
		unsigned char ch = s[i];

		switch (ch) {
		case '"':  fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (ch < 0x20 || ch == 0x7f) {
				fprintf(f, "\\u%04x", ch);
				break;
			}
			n = utf8_len(s + i, len - i);
			if (!n) {
				fputs("\\ufffd", f);
				break;
			}
			fwrite(s + i, 1, n, f);
			i += n;
			continue;
		}
		i++;
	}
	fputc('"', f);
}

void sanitize(char *dst, size_t size, const char *str, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t len = strnlen(str, max), i = 0, o = 0, n;

	if (!size)
		return;
	while (i < len) {
		n = s[i] < 0x20 || s[i] == 0x7f ? 0 : utf8_len(s + i, len - i);
		if (!n) {
			if (o + 4 >= size)
				break;
			snprintf(dst + o, size - o, "\\x%02x", s[i++]);
			o += 4;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(dst + o, s + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
}

void print_safe(FILE *f, const char *str, size_t max)
{
	char buf[2048];

	sanitize(buf, sizeof(buf), str, max);
	fputs(buf, f);
}

static void jw_indent(void)
{
	int i;

	fputc('\n', stdout);
	for (i = 0; i < jw.depth; i++)
		fputs("  ", stdout);
}

/* Comma, indentation and "name": before a value. */
static void jw_member(const char *name)
{
	if (jw.depth > 0) {
		if (!jw.empty[jw.depth])
			fputc(',', stdout);
		jw.empty[jw.depth] = false;
		if (cli.pretty)
			jw_indent();
	}
	if (name) {
		json_escape(stdout, name, strlen(name));
		fputs(cli.pretty ? ": " : ":", stdout);
	}
}

static void jw_open(const char *name, char bracket)
{
	jw_member(name);
	fputc(bracket, stdout);
	if (jw.depth < JW_MAX_DEPTH)
		jw.depth++;
	jw.empty[jw.depth] = true;
}

static void jw_close(char bracket)
{
	bool was_empty = jw.empty[jw.depth];

	if (jw.depth > 0)
		jw.depth--;
	if (cli.pretty && !was_empty)
		jw_indent();
	fputc(bracket, stdout);
}

void jw_object(const char *name)
{
	jw_open(name, '{');
}

void jw_object_end(void)
{
	jw_close('}');
}

void jw_array(const char *name)
{
	jw_open(name, '[');
}

void jw_array_end(void)
{
	jw_close(']');
}

void jw_string(const char *name, const char *s)
{
	jw_member(name);
	json_escape(stdout, s, strlen(s));
}

void jw_string_n(const char *name, const char *s, size_t max)
{
	jw_member(name);
	json_escape(stdout, s, max);
}

void jw_printf(const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jw_string(name, buf);
}

void jw_uint(const char *name, __u64 v)
{
	jw_member(name);
	printf("%llu", (unsigned long long)v);
}

void jw_bool(const char *name, bool v)
{
	jw_member(name);
	fputs(v ? "true" : "false", stdout);
}

void jw_null(const char *name)
{
	jw_member(name);
	fputs("null", stdout);
}

/* One top-level value per line (JSON lines in watch), flushed at once. */
void jw_end(void)
{
	jw.depth = 0;
	fputc('\n', stdout);
	fflush(stdout);
}
