#!/bin/sh
# The man pages: generated from docs/ (tools/md2man.sh), they render without
# a single warning under groff -ww and man --warnings; each has NAME and
# SYNOPSIS; they cover what the programs offer (every long option of
# txcanceld --help, every command of txcancel help, every TXC_API function
# of txcancel.h); and make install puts them where man finds them.
# Usage: test_manpages.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME="man"
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"
pages="txcancel.8 txcanceld.8 txcancel.conf.5 libtxcancel.3"

# Every word on stdin must occur in $2 as `word` (code), word( (a call) or
# a heading "### word".
covers() {
	name=$1 doc=$2 missing=""
	while read -r w; do
		grep -q -e "\`${w}[\` (]" -e "${w}(" -e "^### ${w}" "$doc" || missing="$missing $w"
	done
	if [ -n "$missing" ]; then
		fail "$name: not in $(basename "$doc"):$missing"
	else
		echo "PASS $name"
	fi
}

for p in $pages; do
	selected "man/$p" || continue
	f="$build/man/$p"
	if [ ! -s "$f" ]; then
		fail "man/$p/render: $f is missing: run make"
		continue
	fi
	groff -ww -z -t -man "$f" > "$work/groff" 2>&1
	rc=$?
	MANWIDTH=80 man --warnings -l "$f" > "$work/text" 2> "$work/man"
	rc=$((rc + $?))
	if [ "$rc" -ne 0 ] || [ -s "$work/groff" ] || [ -s "$work/man" ]; then
		fail "man/$p/render: warnings:"
		sed 's/^/#   /' "$work/groff" "$work/man"
	else
		echo "PASS man/$p/render"
	fi
	name=${p%.*}
	if grep -q "^NAME" "$work/text" && grep -q "^SYNOPSIS" "$work/text" &&
	   grep -A1 "^NAME" "$work/text" | grep -q "^ *$name - "; then
		echo "PASS man/$p/sections"
	else
		fail "man/$p/sections: NAME ('$name - ...') or SYNOPSIS missing"
	fi
	# The page is the doc of today, not of an older build.
	if [ -n "$(find "$src/docs/$name.md" -newer "$f")" ]; then
		fail "man/$p/fresh: older than docs/$name.md: run make"
	else
		echo "PASS man/$p/fresh"
	fi
done

if selected man/coverage; then
	# The options are the words the help lines start with.
	"$build/txcanceld" --help | sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z-]*\).*/\2/p' |
		sort -u |
		covers man/coverage/txcanceld_options "$src/docs/txcanceld.md"
	"$build/txcancel" help 2>&1 | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 { print $1 }' |
		covers man/coverage/txcancel_commands "$src/docs/txcancel.md"
	grep -o '^TXC_API [^(]*(' "$src/include/txcancel/txcancel.h" |
		sed 's/.*[ *]\([a-z_0-9]*\)($/\1/' |
		covers man/coverage/libtxcancel_calls "$src/docs/libtxcancel.md"
fi

if selected man/install; then
	if MAKEFLAGS='' make -s -C "$src" BUILD="$build" DESTDIR="$work/root" PREFIX=/usr install \
	     > "$work/install" 2>&1; then
		missing=""
		for p in $pages; do
			sec=${p##*.}
			got=$(MANPATH="$work/root/usr/share/man" man -w "$sec" "${p%.*}" 2>/dev/null)
			[ "$got" = "$work/root/usr/share/man/man$sec/$p" ] || missing="$missing $p"
		done
		if [ -z "$missing" ]; then
			echo "PASS man/install"
		else
			fail "man/install: man does not find$missing under share/man"
		fi
	else
		fail "man/install: make install failed:"
		sed 's/^/#   /' "$work/install"
	fi
fi
exit $status
