#!/bin/sh
# The man pages are lint-clean (mandoc -T lint, warnings and worse) and
# complete: every option smmd accepts (its getopt table) and every option
# of smmctl's command table (as "smmctl help --options" lists them) is in
# their --help and in their man page, every smmctl command and delivery
# state is documented, and every configuration key config.c knows (as its
# "unknown key" messages list them) and every publisher with its keys is in
# smmd.yaml(5), and every key of a calendar file is in smmd-calendar(5).
# Without mandoc the completeness checks still run and the test reports a
# skip (77).
set -eu
export LC_ALL=C

: "${SMM_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMM_TOP_BUILDDIR:=$SMM_TOP_SRCDIR/build}"
S=$SMM_TOP_SRCDIR
B=$SMM_TOP_BUILDDIR
SMMD_8=$S/daemon/smmd.8
SMMD_YAML_5=$S/daemon/smmd.yaml.5
SMMD_CALENDAR_5=$S/daemon/smmd-calendar.5
SMMCTL_1=$S/client/smmctl.1
failed=0

say() {
	printf 'check-man: %s\n' "$*" >&2
}

bad() {
	say "FAIL: $*"
	failed=1
}

for bin in "$B/daemon/smmd" "$B/client/smmctl"; do
	[ -x "$bin" ] || {
		say "SKIP: $bin is not built"
		exit 77
	}
done

# The long options of a getopt_long table: {"name", no_argument, ...}.
long_options() {
	sed -n 's/.*{"\([a-z-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' "$@" |
		sort -u
}

# has_option PAGE NAME: the page documents --NAME (mdoc: Fl \-NAME).
has_option() {
	grep -Eq "Fl \\\\-$2( |$)" "$1"
}

tmp=$(mktemp -d /tmp/smm-check-man.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# smmd: getopt table -> --help -> smmd(8).
"$B/daemon/smmd" --help >"$tmp/smmd.help"
for opt in $(long_options "$S/daemon/main.c"); do
	grep -q -- "--$opt\\b" "$tmp/smmd.help" || bad "smmd --help does not list --$opt"
	has_option "$SMMD_8" "$opt" || bad "smmd.8 does not document --$opt"
done

# smmctl: every command and every option of its command table, as smmctl
# itself lists them (for bash completion too), in the help of the program
# or of that command, and in smmctl(1).
SMMCTL=$B/client/smmctl
"$SMMCTL" --help >"$tmp/smmctl.help"
commands=$("$SMMCTL" help --commands)
[ -n "$commands" ] || bad "smmctl help --commands lists no command"
# long_options_of [CMD]: the long options smmctl gives for CMD (or itself).
long_options_of() {
	"$SMMCTL" help --options "$@" | sed -n 's/^--\([a-z-]*\) .*/\1/p'
}
opts=$(long_options_of)
for cmd in $commands; do
	"$SMMCTL" help "$cmd" >"$tmp/smmctl.$cmd.help"
	cat "$tmp/smmctl.$cmd.help" >>"$tmp/smmctl.help"
	grep -Eq "^\\.(It )?Cm $cmd( |$)" "$SMMCTL_1" || bad "smmctl.1 does not document the command '$cmd'"
	grep -q "smmctl $cmd\\b" "$tmp/smmctl.help" || bad "smmctl --help does not list '$cmd'"
	for opt in $(long_options_of "$cmd"); do
		case $opt in socket | help) continue ;; esac
		grep -q -- "--$opt\\b" "$tmp/smmctl.$cmd.help" || bad "smmctl help $cmd does not list --$opt"
	done
	opts="$opts $(long_options_of "$cmd")"
done
for opt in $(printf '%s\n' $opts | sort -u); do
	grep -q -- "--$opt\\b" "$tmp/smmctl.help" || bad "smmctl's help does not list --$opt"
	has_option "$SMMCTL_1" "$opt" || bad "smmctl.1 does not document --$opt"
done

# The delivery states, as smmctl lists them, in both pages that list them.
states=$("$SMMCTL" help --states)
[ -n "$states" ] || bad "smmctl help --states lists no state"
for state in $states; do
	for page in "$SMMD_8" "$SMMCTL_1"; do
		grep -Eq "^\\.It Cm $state$" "$page" || bad "$(basename "$page") does not describe the state '$state'"
	done
done

# Every configuration key, from the "(known: ...)" lists of config.c's
# messages as the unit test data quotes them.
keys=$(sed -n 's/.*(known: \([^)]*\)).*/\1/p' "$S/tests/unit/data/bad/unknown-key.err" |
	tr ',' '\n' | tr -d ' ' | sort -u)
[ -n "$keys" ] || bad "no key list found in tests/unit/data/bad/unknown-key.err"
for key in $keys; do
	grep -Eq "^\\.It Ic $key " "$SMMD_YAML_5" || bad "smmd.yaml.5 does not document the key '$key'"
done

# Every publisher and its own keys (the .name and .keys of its ops).
for src in "$S"/daemon/publishers/pub_*.c; do
	name=$(sed -n 's/^ *\.name = "\([a-z0-9_]*\)",$/\1/p' "$src")
	[ -n "$name" ] || continue
	grep -Eq "^\\.It Cm $name$" "$SMMD_YAML_5" || bad "smmd.yaml.5 does not document the publisher '$name'"
	# .keys may be a string literal split over lines: join the pieces.
	keys=$(sed -n '/^ *\.keys = /,/",$/p' "$src" | grep -o '"[^"]*"' |
		tr -d '"\n' | tr ',' ' ')
	for key in $keys; do
		grep -Eq "^\\.It Ic $key " "$SMMD_YAML_5" || bad "smmd.yaml.5 does not document the key '$key' of publisher '$name'"
	done
done

# Every key of a calendar file (top level, post, variant), from the
# "(known: ...)" lists of calendar.c's messages as the unit test data
# quotes them.
keys=$(sed -n 's/.*(known: \([^)]*\)).*/\1/p' "$S/tests/unit/data/calendar/bad/unknown-key.err" |
	tr ',' '\n' | tr -d ' ' | sort -u)
[ -n "$keys" ] || bad "no key list found in tests/unit/data/calendar/bad/unknown-key.err"
for key in $keys; do
	grep -Eq "^\\.It Ic $key " "$SMMD_CALENDAR_5" || bad "smmd-calendar.5 does not document the calendar key '$key'"
done

if ! command -v mandoc >/dev/null 2>&1; then
	[ "$failed" -eq 0 ] || exit 1
	say "SKIP: mandoc is not installed (Debian package mandoc): pages not linted"
	exit 77
fi
for page in "$SMMD_8" "$SMMD_YAML_5" "$SMMD_CALENDAR_5" "$SMMCTL_1"; do
	# Warnings and worse: style hints depend on the pages installed here.
	mandoc -T lint -W warning "$page" >"$tmp/lint" 2>&1 || true
	if [ -s "$tmp/lint" ]; then
		bad "mandoc -T lint $page:"
		cat "$tmp/lint" >&2
	fi
done
[ "$failed" -eq 0 ] || exit 1
say "ok: 4 pages lint-clean; every option, command, state and key documented"
