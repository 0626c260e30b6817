# bash completion for txcancel(8).  Installed by `make install` as
# share/bash-completion/completions/txcancel, where bash-completion loads it
# on first use; or source it from ~/.bashrc.  Needs nothing but bash: the
# words come from the commands' usage (txcancel help COMMAND).

_txcancel_words()
{
	COMPREPLY+=($(compgen -W "$1" -- "$cur"))
}

_txcancel_ifnames()
{
	local d
	for d in /sys/class/net/*; do
		[ -e "$d" ] && COMPREPLY+=($(compgen -W "${d##*/}" -- "$cur"))
	done
}

_txcancel()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local commands="hello prefix source tag cancel clear count stats batch watch
		explain status help"
	local protos="udp tcp icmp icmpv6 sctp udplite"
	local i cmd="" sub="" kind="" nargs=0
	COMPREPLY=()

	# The command is the first word that is not a global option (or its value).
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-s|--socket) ((i++)) ;;
		-*) ;;
		*)
			if [ -z "$cmd" ]; then
				cmd=${COMP_WORDS[i]}
			else
				[ $nargs -eq 0 ] && sub=${COMP_WORDS[i]}
				[ $nargs -eq 1 ] && kind=${COMP_WORDS[i]}
				((nargs++))
			fi
			;;
		esac
	done

	case $prev in
	-s|--socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	dev)
		_txcancel_ifnames
		return
		;;
	proto)
		_txcancel_words "$protos"
		return
		;;
	timeout|-t)
		_txcancel_words "500ms 1s 1.5s 10s 1m"
		return
		;;
	esac

	if [ -z "$cmd" ]; then
		case $cur in
		-*) _txcancel_words "-s --socket -j --json -p --pretty -h --help -V --version" ;;
		*) _txcancel_words "$commands" ;;
		esac
		return
	fi

	case $cmd in
	prefix)
		[ $nargs -eq 0 ] && _txcancel_words "alloc free list"
		;;
	source)
		[ $nargs -eq 0 ] && _txcancel_words "open close"
		;;
	tag)
		if [ $nargs -eq 0 ]; then
			_txcancel_words "add del"
		elif [ $nargs -eq 1 ]; then
			_txcancel_words "mark cgroup flow"
		elif [ "$prev" = cgroup ]; then
			COMPREPLY=($(compgen -d -- "$cur"))
		elif [ "$kind" = flow ] && [ "$sub" = add ]; then
			_txcancel_words "proto src dst id source"
		elif [ "$kind" = flow ]; then
			_txcancel_words "proto src dst"
		elif [ "$sub" = add ] && [ $nargs -ge 3 ]; then
			_txcancel_words "id source"
		fi
		;;
	cancel)
		if [ $nargs -eq 0 ]; then
			_txcancel_words "id prefix source"
		elif [ $nargs -ge 2 ]; then
			_txcancel_words "dev timeout"
		fi
		;;
	clear)
		[ $nargs -eq 0 ] && _txcancel_words "id prefix source"
		;;
	count)
		[ $nargs -eq 1 ] && _txcancel_words "on off"
		;;
	stats)
		[ $nargs -eq 0 ] && _txcancel_words "source id --prometheus"
		;;
	batch)
		[ $nargs -eq 0 ] && COMPREPLY=($(compgen -f -- "$cur"))
		;;
	watch)
		case $prev in
		-w) COMPREPLY=($(compgen -f -- "$cur")) ;;
		*) _txcancel_words "-c -t -o -w --snaplen" ;;
		esac
		;;
	explain)
		_txcancel_words "dev mark proto src dst len vlan"
		;;
	help)
		[ $nargs -eq 0 ] && _txcancel_words "$commands"
		;;
	esac
}

complete -F _txcancel txcancel
