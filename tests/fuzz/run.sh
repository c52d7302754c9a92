#!/bin/sh
# Build the libFuzzer harnesses (tests/fuzz/*.c) with clang, ASan and UBSan
# in a build directory of their own, then run each on its corpus for a
# fixed time. "make fuzz" runs this; so can a person:
#
#   sh tests/fuzz/run.sh                      # every harness, 30 s each
#   SMM_FUZZ_SECONDS=600 sh tests/fuzz/run.sh fuzz_calendar
#
# Environment:
#   SMM_FUZZ_SECONDS    how long each harness runs (default: 30; 0: no limit)
#   SMM_FUZZ_BUILD_DIR  the build directory (default: build-fuzz)
#   SMM_FUZZ_FLAGS      more libFuzzer flags, e.g. -runs=1000000
#   SMM_JOBS            parallel make jobs (default: 2)
# What a run learns stays in the build directory's corpus/HARNESS/; an
# input that crashes is saved in its artifacts/ and its log printed.
# Exit status: 0 when no harness found a crash, leak, undefined behaviour
# or timeout.
set -eu

srcdir=${SMM_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${SMM_FUZZ_BUILD_DIR:-$srcdir/build-fuzz}
seconds=${SMM_FUZZ_SECONDS:-30}
jobs=${SMM_JOBS:-2}
all="fuzz_config fuzz_calendar fuzz_rrule fuzz_control fuzz_timeparse
fuzz_retryafter fuzz_template fuzz_classify fuzz_address fuzz_ics fuzz_csv
fuzz_textlen fuzz_tokens"
harnesses=${*:-$all}

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang not found: apt-get install clang" >&2
	exit 1
fi
# Each harness's seeds and dictionary: tests/fuzz/config/ for fuzz_config.
data() {
	echo "$srcdir/tests/fuzz/${1#fuzz_}"
}
for h in $harnesses; do
	if [ ! -f "$srcdir/tests/fuzz/$h.c" ]; then
		echo "fuzz: no harness '$h' (known: $(echo $all))" >&2
		exit 1
	fi
done

# A checkout that was never configured has no configure script yet.
if [ ! -x "$srcdir/configure" ]; then
	(cd "$srcdir" && mkdir -p m4 && autoreconf -fi)
fi
mkdir -p "$builddir"
cd "$builddir"
# Configured once; make reconfigures by itself when configure changes.
if [ ! -f Makefile ]; then
	echo "fuzz: configure in $builddir (CC=clang --enable-fuzzing)"
	"$srcdir/configure" CC=clang --enable-fuzzing --enable-werror \
		--without-systemd >configure.out 2>&1 || {
		cat configure.out >&2
		exit 1
	}
fi
programs=""
for h in $harnesses; do
	programs="$programs tests/fuzz/$h"
done
# shellcheck disable=SC2086 # one word per program, on purpose
make -j"$jobs" $programs

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

failed=""
mkdir -p artifacts
for h in $harnesses; do
	mkdir -p "corpus/$h"
	log="$h.log"
	flags=""
	case $h in
	fuzz_control)
		# Its daemon keeps what the commands add (the schedule, the
		# pauses), so libFuzzer would stop the world to look for a
		# leak after nearly every input: 40 times slower. Leaks are
		# found at exit instead, once the harness has torn it down.
		flags="-detect_leaks=0" ;;
	esac
	printf 'fuzz: %-16s %ss ... ' "$h" "$seconds"
	# The first folder is written to (what the run learns); the seeds
	# in the source tree are only read.
	# shellcheck disable=SC2086 # extra flags are split on purpose
	if "tests/fuzz/$h" -max_total_time="$seconds" -timeout=25 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-dict="$(data "$h")/dict" \
		-artifact_prefix="artifacts/$h-" $flags ${SMM_FUZZ_FLAGS:-} \
		"corpus/$h" "$(data "$h")/corpus" >"$log" 2>&1; then
		awk '
			/stat::number_of_executed_units/ { n = $2 }
			/stat::average_exec_per_sec/ { s = $2 }
			/^#[0-9]+.*cov:/ { for (i = 1; i < NF; i++) {
				if ($i == "cov:") c = $(i + 1)
				if ($i == "ft:") f = $(i + 1)
				if ($i == "corp:") k = $(i + 1) } }
			END { printf "ok: %d runs, %d/s, cov %s, ft %s, corpus %s\n",
				n, s, c, f, k }
		' "$log"
	else
		echo "FAILED"
		failed="$failed $h"
		echo "----- $builddir/$log (last 60 lines)"
		tail -n 60 "$log"
		echo "-----"
	fi
done

if [ -n "$failed" ]; then
	echo "fuzz: findings in:$failed (inputs in $builddir/artifacts/)" >&2
	exit 1
fi
echo "fuzz: no findings"
