#!/bin/sh
# "make install DESTDIR=..." of this build puts every file where the man
# pages say (their FILES sections, read with this build's directories for
# the standard ones) and nothing else; the installed unit runs the
# installed smmd with the installed configuration; a second install keeps
# an edited configuration, and uninstall removes everything but that.
# Automake exit codes (0 pass, 1 fail, 77 skip).
set -eu
export LC_ALL=C

: "${SMM_TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${SMM_TOP_BUILDDIR:=$SMM_TOP_SRCDIR/build}"
S=$SMM_TOP_SRCDIR
B=$SMM_TOP_BUILDDIR

say() {
	printf 'install: %s\n' "$*" >&2
}

fail() {
	say "FAIL: $*"
	exit 1
}

[ -f "$B/Makefile" ] || {
	say "SKIP: $B is not a configured build directory"
	exit 77
}
command -v make >/dev/null 2>&1 || {
	say "SKIP: make is not installed"
	exit 77
}

tmp=$(mktemp -d /tmp/smm-install.XXXXXX)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
D=$tmp/root

# A make of its own, not a child of the "make check" that runs this test.
smm_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$B" "$@"
}

# The directories as this build's Makefile has them (after "make
# prefix=..." too), through a rule read from standard input.
smm_make -f Makefile -f - smm-print-dirs >"$tmp/dirs" <<'MK'
smm-print-dirs:
	@printf "%s='%s'\n" prefix '$(prefix)' sbindir '$(sbindir)' \
		bindir '$(bindir)' sysconfdir '$(sysconfdir)' \
		docdir '$(docdir)' examplesdir '$(examplesdir)' \
		mandir '$(mandir)' unitdir '$(systemdsystemunitdir)' \
		sysusersdir '$(sysusersdir)' tmpfilesdir '$(tmpfilesdir)' \
		bashcompletiondir '$(bashcompletiondir)'
MK
. "$tmp/dirs"
say "prefix $prefix, units in $unitdir"

smm_make install DESTDIR="$D" >"$tmp/install.log" 2>&1 ||
	fail "make install: $(cat "$tmp/install.log")"

# Without libsystemd smmd cannot take a socket from systemd: no smmd.socket.
have_libsystemd=no
grep -q -- '-DHAVE_LIBSYSTEMD=1' "$B/Makefile" && have_libsystemd=yes

# Every file we expect, one a line, as installed (without DESTDIR).
{
	echo "$sbindir/smmd"
	echo "$bindir/smmctl"
	echo "$mandir/man1/smmctl.1"
	echo "$mandir/man5/smmd.yaml.5"
	echo "$mandir/man5/smmd-calendar.5"
	echo "$mandir/man8/smmd.8"
	echo "$examplesdir/smmd.yaml"
	echo "$examplesdir/calendar.yaml"
	echo "$examplesdir/holidays.ics"
	echo "$sysconfdir/smmd/smmd.yaml"
	echo "$sysconfdir/smmd/calendar.yaml"
	echo "$sysconfdir/smmd/holidays.ics"
	if [ "$unitdir" != no ]; then
		echo "$unitdir/smmd.service"
		[ "$have_libsystemd" = no ] || echo "$unitdir/smmd.socket"
	fi
	[ "$sysusersdir" = no ] || echo "$sysusersdir/smmd.conf"
	[ "$tmpfilesdir" = no ] || echo "$tmpfilesdir/smmd.conf"
	[ "$bashcompletiondir" = no ] || echo "$bashcompletiondir/smmctl"
} | sed 's|//*|/|g' | sort >"$tmp/want"
(cd "$D" && find . -type f -o -type l) | sed 's|^\.||' | sort >"$tmp/got"
if ! cmp -s "$tmp/want" "$tmp/got"; then
	say "installed files differ from the expected ones (- expected, + installed):"
	diff -u "$tmp/want" "$tmp/got" | tail -n +3 >&2 || true
	exit 1
fi
[ -x "$D$sbindir/smmd" ] && [ -x "$D$bindir/smmctl" ] || fail "the programs are not executable"
"$D$sbindir/smmd" --version | grep -q '^smmd ' || fail "the installed smmd does not run"
cmp -s "$S/config/smmd.yaml" "$D$sysconfdir/smmd/smmd.yaml" ||
	fail "the installed configuration is not the example"

# The unit runs what was installed, with the configuration installed.
if [ "$unitdir" != no ]; then
	grep -qx "ExecStart=$sbindir/smmd --foreground -c $sysconfdir/smmd/smmd.yaml" \
		"$D$unitdir/smmd.service" ||
		fail "smmd.service: ExecStart= is not the installed smmd and configuration: $(grep '^ExecStart=' "$D$unitdir/smmd.service")"
	! grep -q '@[a-z]*@' "$D$unitdir/smmd.service" ||
		fail "smmd.service has unsubstituted @variables@"
fi

# Each file the man pages' FILES sections name that "make install"
# provides: the standard paths there map to this build's directories.
man_files() {
	sed -n '/^\.Sh FILES/,/^\.Sh /s/^\.It Pa \(\/[^ ]*\).*/\1/p' "$@"
}
for path in $(man_files "$S/daemon/smmd.8" "$S/daemon/smmd.yaml.5" \
	"$S/daemon/smmd-calendar.5" "$S/client/smmctl.1" | sort -u); do
	if [ "$have_libsystemd" = no ] && [ "${path##*/}" = smmd.socket ]; then
		continue
	fi
	case $path in
	/var/lib/smmd/* | /run/smmd/*) continue ;; # made at run time
	/etc/smmd/*) inst=$sysconfdir/smmd/${path#/etc/smmd/} ;;
	/usr/share/doc/smmd/*) inst=$docdir/${path#/usr/share/doc/smmd/} ;;
	/lib/systemd/system/*) inst=$unitdir/${path#/lib/systemd/system/} ;;
	/usr/lib/sysusers.d/*) inst=$sysusersdir/${path#/usr/lib/sysusers.d/} ;;
	/usr/lib/tmpfiles.d/*) inst=$tmpfilesdir/${path#/usr/lib/tmpfiles.d/} ;;
	/usr/share/bash-completion/completions/*)
		inst=$bashcompletiondir/${path#/usr/share/bash-completion/completions/} ;;
	*) fail "a man page names $path, which this test cannot map to an install directory" ;;
	esac
	case $inst in
	no/*) continue ;; # configured not to install that kind of file
	esac
	[ -f "$D$inst" ] || fail "a man page names $path, but make install did not create $inst"
done

# An admin's configuration survives a reinstall and an uninstall.
printf '# edited by the admin\n' >>"$D$sysconfdir/smmd/smmd.yaml"
cp "$D$sysconfdir/smmd/smmd.yaml" "$tmp/edited.yaml"
smm_make install DESTDIR="$D" >"$tmp/install2.log" 2>&1 ||
	fail "second make install: $(cat "$tmp/install2.log")"
cmp -s "$tmp/edited.yaml" "$D$sysconfdir/smmd/smmd.yaml" ||
	fail "a second make install overwrote the edited configuration"
smm_make uninstall DESTDIR="$D" >"$tmp/uninstall.log" 2>&1 ||
	fail "make uninstall: $(cat "$tmp/uninstall.log")"
left=$(cd "$D" && find . -type f | sed 's|^\.||')
[ "$left" = "$sysconfdir/smmd/smmd.yaml" ] ||
	fail "after uninstall, want only the edited configuration left, got: $left"

# An untouched configuration goes with the rest.
rm -f "$D$sysconfdir/smmd/smmd.yaml"
smm_make install DESTDIR="$D" >/dev/null 2>&1 || fail "third make install"
smm_make uninstall DESTDIR="$D" >/dev/null 2>&1 || fail "second make uninstall"
left=$(cd "$D" && find . -type f)
[ -z "$left" ] || fail "after uninstall, files are left: $left"
say "ok: $(wc -l <"$tmp/want") files where the man pages say"
