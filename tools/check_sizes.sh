#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Files and functions that grew past what one reads in one sitting: every
# FILE longer than MAX_LINES (700) lines, every function in it longer than
# MAX_FUNC (80) lines.  One line per finding, "file:line: what"; exit 1 if
# there is any.
# Usage: check_sizes.sh FILE.c...
#
# The C is kernel style: a function's body opens with "{" alone in column 0
# and closes with "}" in column 0; its name is on the last line in column 0
# before it.  A table (a static initializer) opens on its declaration's line
# ("... = {"), so it is never taken for a function.
set -u
MAX_LINES=${MAX_LINES:-700}
MAX_FUNC=${MAX_FUNC:-80}
found=0
for f in "$@"; do
	out=$(awk -v file="$f" -v max_func="$MAX_FUNC" -v max_lines="$MAX_LINES" '
		/^[A-Za-z_]/ && !/;$/ { head = $0; head_line = NR }
		/^\{$/ { open = NR; name = head; line = head_line; next }
		/^\}/ && open {
			body = NR - open - 1
			if (match(name, /[A-Za-z_][A-Za-z0-9_]*\(/))
				name = substr(name, RSTART, RLENGTH - 1)
			if (body > max_func)
				printf "%s:%d: function %s is %d lines (more than %d)\n",
				       file, line, name, body, max_func
			open = 0
		}
		END {
			if (NR > max_lines)
				printf "%s: %d lines (more than %d)\n", file, NR, max_lines
		}
	' "$f")
	[ -n "$out" ] || continue
	echo "$out"
	found=1
done
exit $found
