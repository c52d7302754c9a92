#!/bin/sh
# The systemd units as "make install" would install them: systemd-analyze
# verify finds nothing to say about smmd.service and smmd.socket (their
# Documentation= man pages included), "systemd-analyze security" rates
# smmd.service at most 1.5, and the sysusers.d and tmpfiles.d snippets
# create user smmd (primary group smm) and /run/smmd (smmd:smm 0750) in a
# scratch root. Skips (77) without systemd-analyze. Automake exit codes.
set -eu
export LC_ALL=C

: "${SMM_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMM_TOP_BUILDDIR:=$SMM_TOP_SRCDIR/build}"
# The highest exposure level CI accepts (a fully hardened unit: about 1.2).
: "${SMM_MAX_EXPOSURE:=1.5}"

say() {
	printf 'check-units: %s\n' "$*" >&2
}

command -v systemd-analyze >/dev/null 2>&1 || {
	say "SKIP: systemd-analyze is not installed (Debian package systemd)"
	exit 77
}
for unit in smmd.service smmd.socket; do
	[ -f "$SMM_TOP_BUILDDIR/systemd/$unit" ] || {
		say "FAIL: $SMM_TOP_BUILDDIR/systemd/$unit is not built (make check builds it)"
		exit 1
	}
done

tmp=$(mktemp -d /tmp/smm-check-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/units" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8" "$tmp/root/etc"

# verify wants ExecStart='s program to exist: the built smmd stands in for
# the installed one. Everything else is the unit as generated.
sed -e "s|^\(Exec[A-Za-z]*=\)[^ ]*/smmd |\1$SMM_TOP_BUILDDIR/daemon/smmd |" \
	"$SMM_TOP_BUILDDIR/systemd/smmd.service" >"$tmp/units/smmd.service"
cp "$SMM_TOP_BUILDDIR/systemd/smmd.socket" "$tmp/units/smmd.socket"
grep -q "^ExecStart=$SMM_TOP_BUILDDIR/daemon/smmd --foreground -c " \
	"$tmp/units/smmd.service" || {
	say "FAIL: unexpected ExecStart= in smmd.service:"
	grep '^ExecStart=' "$SMM_TOP_BUILDDIR/systemd/smmd.service" >&2
	exit 1
}

# Documentation= is checked with man(1): offer it the pages of this tree.
cp "$SMM_TOP_SRCDIR/client/smmctl.1" "$tmp/man/man1/"
cp "$SMM_TOP_SRCDIR/daemon/smmd.yaml.5" "$tmp/man/man5/"
cp "$SMM_TOP_SRCDIR/daemon/smmd.8" "$tmp/man/man8/"
man_check=yes
command -v man >/dev/null 2>&1 || man_check=no
say "systemd-analyze verify (man pages checked: $man_check)"
if ! MANPATH=$tmp/man systemd-analyze verify --man=$man_check \
	"$tmp/units/smmd.service" "$tmp/units/smmd.socket" >"$tmp/verify.log" 2>&1 ||
	[ -s "$tmp/verify.log" ]; then
	say "FAIL: systemd-analyze verify:"
	cat "$tmp/verify.log" >&2
	exit 1
fi

say "systemd-analyze security --offline=yes smmd.service"
systemd-analyze security --offline=yes "$tmp/units/smmd.service" \
	>"$tmp/security.log" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for smmd\.service: \([0-9][0-9.]*\).*/\1/p' \
	"$tmp/security.log")
if [ -z "$score" ]; then
	say "FAIL: no exposure level in the output of systemd-analyze security:"
	cat "$tmp/security.log" >&2
	exit 1
fi
# What is left exposed, for the log.
grep -E '^(✗|-) ' "$tmp/security.log" >&2 || true
if ! awk -v s="$score" -v max="$SMM_MAX_EXPOSURE" 'BEGIN { exit !(s <= max) }'; then
	say "FAIL: smmd.service exposure level $score, above $SMM_MAX_EXPOSURE"
	exit 1
fi
say "smmd.service exposure level: $score (at most $SMM_MAX_EXPOSURE)"

# The user, the group and the runtime directory, in a scratch root.
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers --root="$tmp/root" \
		"$SMM_TOP_SRCDIR/systemd/sysusers.d/smmd.conf" >/dev/null 2>&1
	smm_gid=$(awk -F: '$1 == "smm" { print $3 }' "$tmp/root/etc/group")
	smmd_gid=$(awk -F: '$1 == "smmd" { print $4 }' "$tmp/root/etc/passwd")
	if [ -z "$smm_gid" ] || [ "$smmd_gid" != "$smm_gid" ]; then
		say "FAIL: sysusers.d/smmd.conf: want user smmd in primary group smm"
		cat "$tmp/root/etc/passwd" "$tmp/root/etc/group" >&2
		exit 1
	fi
	if command -v systemd-tmpfiles >/dev/null 2>&1; then
		systemd-tmpfiles --create --root="$tmp/root" \
			"$SMM_TOP_SRCDIR/systemd/tmpfiles.d/smmd.conf"
		perms=$(stat -c '%a %g' "$tmp/root/run/smmd")
		[ "$perms" = "750 $smm_gid" ] || {
			say "FAIL: tmpfiles.d/smmd.conf made /run/smmd '$perms', want '750 $smm_gid'"
			exit 1
		}
	fi
	say "sysusers.d and tmpfiles.d snippets: ok"
fi
say "ok"
