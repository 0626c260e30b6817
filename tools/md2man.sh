#!/bin/sh
# Turn one page of docs/ into a man page: docs/ is the only source.
#
# The page's first line is "# NAME(SECTION): what it is"; it becomes the NAME
# section ("NAME - what it is", which whatis and apropos read).  The other
# headings move up a level ("## Synopsis" is the .SH SYNOPSIS, "### hello" a
# .SS), code blocks stay as they are, and lowdown writes the roff.
# Usage: md2man.sh DOC.md VERSION OUT
set -eu
doc=$1
version=$2
out=$3

head=$(sed -n 1p "$doc")
name=$(printf '%s\n' "$head" | sed -n 's/^# \([A-Za-z0-9_.-]*\)(\([0-9]\)): \(.*\)$/\1/p')
section=$(printf '%s\n' "$head" | sed -n 's/^# \([A-Za-z0-9_.-]*\)(\([0-9]\)): \(.*\)$/\2/p')
what=$(printf '%s\n' "$head" | sed -n 's/^# \([A-Za-z0-9_.-]*\)(\([0-9]\)): \(.*\)$/\3/p')
if [ -z "$name" ] || [ -z "$section" ] || [ -z "$what" ]; then
	echo "md2man: $doc: the first line must be '# NAME(SECTION): what it is'" >&2
	exit 1
fi
case $section in
1|6|8) manual="System Manager's Manual" ;;
3) manual="Library Functions Manual" ;;
5) manual="File Formats Manual" ;;
*) manual="" ;;
esac

{
	printf '# NAME\n\n%s - %s\n' "$name" "$what"
	sed 1d "$doc" | awk '
		/^```/ { code = !code }
		!code && /^## / { print "# " toupper(substr($0, 4)); next }
		!code && /^### / { print "## " substr($0, 5); next }
		{ print }'
} > "$out.md"
lowdown -s -Tman --parse-no-metadata --out-no-smarty \
	-M title="$name" -M section="$section" -M source="txcancel $version" \
	-M volume="$manual" -o "$out.md.roff" "$out.md"
# Left-aligned: code, names and JSON do not stretch well.
sed '/^\.TH /a .ad l' "$out.md.roff" > "$out.tmp"
rm -f "$out.md" "$out.md.roff"
mv "$out.tmp" "$out"
