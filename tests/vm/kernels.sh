#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Fetch Debian kernels for the VM tests, without installing anything on the
# host: the packages are downloaded with a private apt state and extracted
# into $TXC_KERNEL_CACHE (default /var/cache/txcancel/kernels):
#
#   <cache>/<release>/vmlinuz, config, lib/modules/<release>/, package
#   <cache>/<series>[-generic] -> <release>    (e.g. 6.1 -> 6.1.0-50-cloud-amd64)
#
# Usage: tests/vm/kernels.sh [--refresh] [SERIES[-generic]...]
#   SERIES is 6.1 (bookworm), 6.12 (trixie, bookworm-backports) or 7.2 (sid),
#   with their security updates;
#   the "cloud" flavour unless -generic is appended.  Without arguments: 6.1
#   6.12 7.2 and 6.1-generic.  A kernel already cached is kept unless
#   --refresh asks the archive for a newer one.  Prints "<name> <release>"
#   for each kernel.
#
# The archive's address is taken from this machine's own apt sources: the
# entries that serve its release's main suite.
set -eu

cache=${TXC_KERNEL_CACHE:-/var/cache/txcancel/kernels}
apt_dir=$cache/.apt
refresh=0

die() { echo "kernels: $*" >&2; exit 1; }

# The Debian suites searched for each kernel series.
suites_of() {
	case "$1" in
	6.1) echo "bookworm bookworm-security" ;;
	6.12) echo "trixie trixie-security bookworm-backports" ;;
	7.2) echo "sid" ;;
	*) die "unknown kernel series '$1' (known: 6.1, 6.12, 7.2)" ;;
	esac
}

# "kind URI keyring" for each apt source entry of type deb that serves this
# host's release (kind "main": its codename as a suite) or its security
# updates (kind "security": <codename>-security), from one-line and deb822
# files alike.
host_archives() {
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v cn="$codename" '
		$1 == "deb" {
			key = "-"; i = 2
			if ($2 ~ /^\[/) {
				for (; i <= NF; i++) {
					if (match($i, /signed-by=[^] ]*/))
						key = substr($i, RSTART + 10, RLENGTH - 10)
					if ($i ~ /\]$/) break
				}
				i++
			}
			if ($(i + 1) == cn) print "main", $i, key
			if ($(i + 1) == cn "-security") print "security", $i, key
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v cn="$codename" '
		function flush() {
			kind = ""
			if ((" " suites " ") ~ (" " cn " ")) kind = "main"
			else if ((" " suites " ") ~ (" " cn "-security ")) kind = "security"
			if (types ~ /(^| )deb( |$)/ && kind != "" && enabled != "no")
				for (j = 1; j <= n; j++) print kind, u[j], (key == "" ? "-" : key)
			types = ""; suites = ""; key = ""; enabled = ""; n = 0
		}
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		/^Types:/ { sub(/^Types:[ \t]*/, ""); types = $0 }
		/^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites = $0 }
		/^Signed-By:/ { sub(/^Signed-By:[ \t]*/, ""); key = $0 }
		/^Enabled:/ { sub(/^Enabled:[ \t]*/, ""); enabled = tolower($0) }
		/^URIs:/ { sub(/^URIs:[ \t]*/, ""); n = split($0, u, /[ \t]+/) }
		END { flush() }' "$f"
	done
}

apt_opts() {
	echo "-o Dir::State::Lists=$apt_dir/lists -o Dir::Etc::SourceList=$apt_dir/sources.list" \
	     "-o Dir::Etc::SourceParts=/dev/null -o Dir::Cache=$apt_dir/cache" \
	     "-o Dir::State::Status=$apt_dir/status -o Acquire::Languages=none" \
	     "-o APT::Get::List-Cleanup=0 -o Debug::NoLocking=1"
}

# One private apt state for all suites, refreshed once per run.
apt_ready=0
apt_update() {
	[ "$apt_ready" -eq 1 ] && return 0
	mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
	: > "$apt_dir/status"
	archives=$(host_archives)
	[ -n "$archives" ] || die "no Debian archive in /etc/apt/sources.list or" \
		"/etc/apt/sources.list.d/ serves this host's release: cannot download kernels"
	echo "$archives" | while read -r kind uri key; do
		opt=""
		[ "$key" = "-" ] || opt="[signed-by=$key] "
		if [ "$kind" = main ]; then
			suites="bookworm bookworm-backports trixie sid"
		else
			suites="bookworm-security trixie-security"
		fi
		for s in $suites; do
			echo "deb ${opt}$uri $s main"
		done
	done > "$apt_dir/sources.list"
	# shellcheck disable=SC2046
	apt-get -q $(apt_opts) update >"$apt_dir/update.log" 2>&1 ||
		die "apt-get update of the kernel suites failed (see $apt_dir/update.log)"
	apt_ready=1
}

# Newest release name (e.g. 6.12.117+deb13-cloud-amd64) of a series and flavour.
newest_release() {
	series=$1 flavour=$2
	re=$(echo "$series" | sed 's/\./\\./g')
	# shellcheck disable=SC2046
	apt-cache $(apt_opts) pkgnames "linux-image-$series." |
		grep -E "^linux-image-$re\.[0-9]+(-[0-9]+|\+[a-z0-9.~]+)-$flavour\$" |
		while read -r pkg; do
			# shellcheck disable=SC2046
			v=$(apt-cache $(apt_opts) show --no-all-versions "$pkg" 2>/dev/null |
			    sed -n 's/^Version: //p' | head -1)
			[ -n "$v" ] && echo "$v ${pkg#linux-image-}"
		done |
		sort -V -k1,1 | tail -1
}

# Extract the packages of one release into <cache>/<release>.
fetch_release() {
	rel=$1 version=$2
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	# shellcheck disable=SC2046
	if apt-cache $(apt_opts) show "linux-binary-unsigned-$rel" >/dev/null 2>&1; then
		pkgs="linux-binary-unsigned-$rel linux-modules-$rel"
		# shellcheck disable=SC2046
		apt-cache $(apt_opts) show "linux-base-$rel" >/dev/null 2>&1 &&
			pkgs="$pkgs linux-base-$rel"
	else
		pkgs="linux-image-$rel"
	fi
	chmod 0755 "$tmp"	# apt's download user writes here
	echo "kernels: downloading $pkgs ($version)" >&2
	# shellcheck disable=SC2046
	(cd "$tmp" && apt-get -q $(apt_opts) download $pkgs >"$tmp/download.log" 2>&1) || {
		cat "$tmp/download.log" >&2; rm -rf "$tmp"
		die "could not download $pkgs"
	}
	mkdir "$tmp/root"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; die "could not extract $deb"; }
	done
	out=$tmp/out
	mkdir -p "$out/lib/modules"
	for d in "$tmp/root/usr/lib/modules/$rel" "$tmp/root/lib/modules/$rel"; do
		[ -d "$d" ] && mv "$d" "$out/lib/modules/"
	done
	# Older packages put the kernel and its config in /boot, newer ones
	# next to the modules.
	mods=$out/lib/modules/$rel
	for f in "$tmp/root/boot/vmlinuz-$rel" "$mods/vmlinuz" "$mods/vmlinuz.unsigned"; do
		[ -f "$f" ] && mv "$f" "$out/vmlinuz"
	done
	for f in "$tmp/root/boot/config-$rel" "$mods/config"; do
		[ -f "$f" ] && mv "$f" "$out/config"
	done
	[ -f "$out/vmlinuz" ] || { rm -rf "$tmp"; die "$pkgs hold no kernel image for $rel"; }
	[ -f "$out/config" ] || { rm -rf "$tmp"; die "$pkgs hold no kernel config for $rel"; }
	[ -d "$out/lib/modules/$rel/kernel" ] ||
		{ rm -rf "$tmp"; die "$pkgs hold no modules for $rel"; }
	# The packages leave modules.dep to depmod at install time.
	busybox depmod -b "$out" "$rel" ||
		{ rm -rf "$tmp"; die "depmod failed for $rel"; }
	echo "$pkgs $version" > "$out/package"
	rm -rf "${cache:?}/$rel"
	mv "$out" "$cache/$rel"
	rm -rf "$tmp"
}

# Make <cache>/<name> point at the newest (or the cached) kernel of its series.
get_kernel() {
	name=$1
	case "$name" in
	*-generic) series=${name%-generic} flavour=amd64 ;;
	*) series=$name flavour=cloud-amd64 ;;
	esac
	suites_of "$series" >/dev/null
	if [ "$refresh" -eq 0 ] && [ -L "$cache/$name" ] && [ -f "$cache/$name/vmlinuz" ]; then
		echo "$name $(readlink "$cache/$name")"
		return 0
	fi
	apt_update
	found=$(newest_release "$series" "$flavour")
	[ -n "$found" ] || die "no linux-image-$series.*-$flavour in $(suites_of "$series")"
	version=${found%% *} rel=${found#* }
	[ -f "$cache/$rel/vmlinuz" ] || fetch_release "$rel" "$version"
	ln -sfn "$rel" "$cache/$name"
	echo "$name $rel"
}

[ "${1:-}" = "--refresh" ] && { refresh=1; shift; }
[ "$(id -u)" -eq 0 ] || die "needs root to write $cache"
command -v busybox >/dev/null || die "busybox (package busybox-static) is needed for depmod"
mkdir -p "$cache"
[ $# -gt 0 ] || set -- 6.1 6.12 7.2 6.1-generic
for k in "$@"; do
	get_kernel "$k"
done
