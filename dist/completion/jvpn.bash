# bash completion for jvpn(8)                                 -*- shell-script -*-
# SPDX-License-Identifier: MIT
# Installed as share/bash-completion/completions/jvpn.  Commands come from
# `jvpn --help` (so a new command completes without editing this file),
# interface names from the control sockets under /run/jvpn
# (JVPN_RUN_DIR overrides it, as for jvpn itself; JVPN_RUNTIME_DIR too, for
# tests), files for `up` and the
# commands that read logs or scenarios.

_jvpn_ifaces()
{
	local dir=${JVPN_RUN_DIR:-${JVPN_RUNTIME_DIR:-/run/jvpn}} s
	for s in "$dir"/*.sock; do
		[ -S "$s" ] || continue
		s=${s##*/}
		printf '%s\n' "${s%.sock}"
	done
}

_jvpn()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	if [ "$cword" -eq 1 ]; then
		local cmds
		cmds=$("${words[0]}" --help 2>/dev/null |
			awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
	fi

	case $prev in
	--socket|--config|--file|--events|-o)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return ;;
	--dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		compopt -o filenames 2>/dev/null
		return ;;
	--format)
		COMPREPLY=($(compgen -W "text json" -- "$cur"))
		return ;;
	--profile)
		COMPREPLY=($(compgen -W "fast default" -- "$cur"))
		return ;;
	esac

	local cmd=${words[1]} opts=""
	case $cmd in
	up|sim|audit|report)
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))
			compopt -o filenames 2>/dev/null
			return
		fi
		opts="--help" ;;
	show|status)
		opts="--json --socket --config --dir --help" ;;
	reload)
		opts="--socket --config --help" ;;
	events)
		opts="-n --since --format --session --type --follow --file --socket --config --dir --help" ;;
	switch|terminate)
		opts="--socket --config --help" ;;
	*)
		opts="--help" ;;
	esac
	case $cmd in
	show|status|reload|events)
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -W "$(_jvpn_ifaces)" -- "$cur"))
			return
		fi ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} && complete -F _jvpn jvpn
