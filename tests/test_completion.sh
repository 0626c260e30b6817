#!/bin/sh
# Bash completion of txcancel (dist/txcancel.bash): what it offers at each
# place of a command line, that it offers the tool's commands exactly and
# no word the command's usage does not know, and that make install puts it
# where bash-completion loads it.  Zsh's (dist/_txcancel): its syntax, the
# commands it names (the tool's, exactly) and that compinit finds it where
# make install puts it.
# Usage: test_completion.sh <source dir> <build dir> [filter]
set -u
# shellcheck disable=SC2034 # read by testlib.sh
TESTLIB_NAME=completion
# shellcheck source=tests/testlib.sh
. "$(dirname "$0")/testlib.sh"
comp=$src/dist/txcancel.bash

# What the completion offers for the words "$@" (the last one is completed).
offers() {
	bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _txcancel
		 printf "%s\n" "${COMPREPLY[@]}"' "$comp" txcancel "$@" | sort | tr '\n' ' ' |
		sed 's/ $//'
}

# expect NAME WANT WORDS...: the sorted offers for WORDS are exactly WANT.
expect() {
	name=$1 want=$2
	shift 2
	selected "completion/$name" || return 0
	got=$(offers "$@")
	want=$(printf '%s\n' $want | sort | tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$want" ]; then
		echo "PASS completion/$name"
	else
		fail "completion/$name: 'txcancel $*': got '$got', expected '$want'"
	fi
}

if selected completion/syntax; then
	if bash -n "$comp" 2> "$work/err"; then
		echo "PASS completion/syntax"
	else
		fail "completion/syntax:"
		sed 's/^/#   /' "$work/err"
	fi
fi

commands=$("$build/txcancel" help 2>&1 | sed -n '/^commands:/,/^$/p' |
	   awk 'NF > 1 { print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')
expect commands "$commands" ""
expect command_prefix "cancel" ca
expect after_global_options "stats status" -j -s /tmp/x st
expect global_options "--socket --json --pretty --help --version" --
expect prefix "alloc free list" prefix ""
expect tag_del_kinds "mark cgroup flow" tag del ""
expect tag_add_kinds "mark cgroup flow" tag add ""
expect tag_add_mark_keywords "id source" tag add mark 5 ""
expect tag_add_flow_keywords "proto src dst id source" tag add flow ""
expect flow_protocols "udp tcp icmp icmpv6 sctp udplite" tag add flow proto ""
expect cancel_scopes "id prefix source" cancel ""
expect cancel_options "dev timeout" cancel id 5:1 ""
expect clear_scopes "id prefix source" clear ""
expect count "on off" count 5:1 ""
expect stats "source id --prometheus" stats ""
expect watch_options "-c -t -o -w --snaplen" watch ""
expect help "explain" help ex
expect dev_lo "lo" cancel id 5:1 dev l

# Each command's offered words are words of its usage (txcancel help CMD).
if selected completion/usage; then
	bad=""
	for words in "prefix" "source" "tag add" "tag del" "tag add flow" "cancel" \
		     "cancel id 1" "clear" "stats" "watch" "explain"; do
		cmd=${words%% *}
		"$build/txcancel" help "$cmd" > "$work/usage" 2>&1
		# shellcheck disable=SC2086
		for w in $(offers $words ""); do
			grep -q -e "[ |\[]${w}[] |]" -e "[ |\[]${w}\$" "$work/usage" ||
				bad="$bad $cmd:$w"
		done
	done
	if [ -z "$bad" ]; then
		echo "PASS completion/usage"
	else
		fail "completion/usage: offered but not in the usage:$bad"
	fi
fi

if selected completion/install; then
	root=$work/root
	if ! MAKEFLAGS='' make -s -C "$src" BUILD="$build" DESTDIR="$root" PREFIX=/usr install \
	     > "$work/log" 2>&1; then
		fail "completion/install: make install failed:"
		sed 's/^/#   /' "$work/log"
	elif [ ! -r /usr/share/bash-completion/bash_completion ]; then
		fail "completion/install: bash-completion is not installed (make deps)"
	elif XDG_DATA_DIRS=$root/usr/share bash -c \
	     '. /usr/share/bash-completion/bash_completion; __load_completion txcancel &&
	      complete -p txcancel' 2>&1 | grep -q -- '-F _txcancel txcancel'; then
		echo "PASS completion/install"
	else
		fail "completion/install: bash-completion does not load" \
		     "share/bash-completion/completions/txcancel"
	fi
fi

zcomp=$src/dist/_txcancel
if selected completion/zsh_syntax; then
	if ! command -v zsh >/dev/null; then
		fail "completion/zsh_syntax: zsh is not installed (make deps)"
	elif zsh -n "$zcomp" 2> "$work/err"; then
		echo "PASS completion/zsh_syntax"
	else
		fail "completion/zsh_syntax:"
		sed 's/^/#   /' "$work/err"
	fi
fi

if selected completion/zsh_commands; then
	got=$(sed -n "/^	commands=(/,/^	)/s/^		'\([a-z]*\):.*/\1/p" "$zcomp" | sort |
	      tr '\n' ' ' | sed 's/ $//')
	if [ "$got" = "$commands" ]; then
		echo "PASS completion/zsh_commands"
	else
		fail "completion/zsh_commands: got '$got', expected '$commands'"
	fi
fi

if selected completion/zsh_install; then
	zdir=$work/zroot/usr/share/zsh/site-functions
	MAKEFLAGS='' make -s -C "$src" BUILD="$build" DESTDIR="$work/zroot" PREFIX=/usr install \
		> "$work/zlog" 2>&1
	if [ ! -r "$zdir/_txcancel" ]; then
		fail "completion/zsh_install: make install did not install $zdir/_txcancel"
	elif [ "$(HOME=$work zsh -f -c "fpath=($zdir \$fpath); autoload -U compinit;
		  compinit -u -d $work/zcompdump; print -r -- \$_comps[txcancel]")" = _txcancel ]; then
		echo "PASS completion/zsh_install"
	else
		fail "completion/zsh_install: compinit does not find _txcancel in $zdir"
	fi
fi
exit $status
