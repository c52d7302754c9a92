#!/bin/sh
# Build smmd from scratch and run its whole test suite: the command the
# README gives. Run it from the source root as root on Debian 12:
#
#   sh tests/check.sh
#
# Environment:
#   SMM_BUILD_DIR         build directory (default: build)
#   SMM_CONFIGURE_FLAGS   extra configure flags, e.g. --enable-sanitizers
#   SMM_JOBS              parallel make jobs (default: 2)
# Exit status: 0 when everything built and every test passed.
set -eu

cd "$(dirname "$0")/.."
srcdir=$(pwd)
builddir=${SMM_BUILD_DIR:-build}
jobs=${SMM_JOBS:-2}

say() {
	printf '\n--- check: %s\n' "$*"
}

say "installing Debian packages (if any are missing)"
sh .ci/deps.sh

if [ -f config.status ]; then
	echo "check: the source tree itself is configured; run 'make distclean' here first" >&2
	exit 1
fi

say "autoreconf -fi"
# A release tarball has no m4/; aclocal warns without it.
mkdir -p m4
autoreconf -fi

say "configure in $builddir/ (--enable-werror ${SMM_CONFIGURE_FLAGS:-})"
mkdir -p "$builddir"
cd "$builddir"
# shellcheck disable=SC2086 # extra flags are split into words on purpose
"$srcdir/configure" --enable-werror ${SMM_CONFIGURE_FLAGS:-}

say "make -j$jobs"
make -j"$jobs"

# Print "N passed, N failed, N skipped" from the harness's summary.
summary() {
	[ -f test-suite.log ] || return 0
	awk '
		/^# PASS:/  { pass += $3 }
		/^# SKIP:/  { skip += $3 }
		/^# XFAIL:/ { skip += $3 }
		/^# FAIL:/  { fail += $3 }
		/^# XPASS:/ { fail += $3 }
		/^# ERROR:/ { fail += $3 }
		END { printf "check: %d passed, %d failed, %d skipped\n", pass, fail, skip }
	' test-suite.log
}

say "make check"
if make -j"$jobs" check; then
	summary
	exit 0
fi

# Show the log of every test that did not pass, then the counts.
echo
echo "check: FAILED; logs of the failing tests follow" >&2
find tests -name '*.trs' | sort | while read -r trs; do
	if grep -Eq '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
		log=${trs%.trs}.log
		printf '\n===== %s/%s =====\n' "$builddir" "$log"
		cat "$log" 2>/dev/null || echo "(no log)"
	fi
done
summary
exit 1
