#!/bin/sh
# The public headers compile as C and as C++ without a warning: every header
# on its own and tests/headers/use_headers.c, with gcc and clang (C11, C17)
# and g++ and clang++ (C++11 to C++20), -Wall -Wextra -Werror -pedantic.
# use_headers is also linked against libtxcancel.a with each compiler and
# run: C and C++ must print the same layout.
# Usage: test_headers.sh <source dir> <build dir> [filter]
set -u
src=$1
build=$2
filter=${3:-}
work=$(mktemp -d /tmp/txcancel-headers.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
flags="-Wall -Wextra -Werror -pedantic -I$src/include"
failed=0

# One combination: compiler, language, standard.
check() {
	cc=$1 lang=$2 std=$3
	name="headers/$cc/$std"
	case $name in *"$filter"*) ;; *) return ;; esac
	if ! command -v "$cc" >/dev/null; then
		echo "FAIL $name: $cc is not installed (make deps)"
		failed=1
		return
	fi
	for h in abi.h proto.h txcancel.h; do
		if ! printf '#include <txcancel/%s>\n' "$h" |
		     $cc -x "$lang" -std="$std" $flags -fsyntax-only - 2>"$work/err"; then
			echo "FAIL $name: txcancel/$h alone:"
			sed 's/^/#   /' "$work/err"
			failed=1
			return
		fi
	done
	if ! $cc -x "$lang" -std="$std" $flags "$src/tests/headers/use_headers.c" \
	     -x none "$build/lib/libtxcancel.a" -o "$work/use" 2>"$work/err"; then
		echo "FAIL $name: use_headers.c:"
		sed 's/^/#   /' "$work/err"
		failed=1
		return
	fi
	if ! "$work/use" > "$work/out.$cc.$std" 2>&1; then
		echo "FAIL $name: use_headers did not run"
		failed=1
		return
	fi
	if [ -f "$work/ref" ] && ! cmp -s "$work/ref" "$work/out.$cc.$std"; then
		echo "FAIL $name: layout differs from the first build's:"
		diff "$work/ref" "$work/out.$cc.$std" | sed 's/^/#   /'
		failed=1
		return
	fi
	[ -f "$work/ref" ] || cp "$work/out.$cc.$std" "$work/ref"
	echo "PASS $name"
}

if [ ! -f "$build/lib/libtxcancel.a" ]; then
	echo "FAIL headers: $build/lib/libtxcancel.a is missing: run make"
	exit 1
fi
for cc in gcc clang; do
	for std in c11 c17; do
		check "$cc" c "$std"
	done
done
for cxx in g++ clang++; do
	for std in c++11 c++14 c++17 c++20; do
		check "$cxx" c++ "$std"
	done
done
# The reference output is what the compilers agree on; show it once.
[ -f "$work/ref" ] && sed 's/^/# /' "$work/ref"
exit $failed
