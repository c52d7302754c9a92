#!/bin/bash
# smmd under systemd's protocols, without systemd: the control socket comes
# in the sd_listen_fds way (LISTEN_FDS=1, LISTEN_PID, fd 3) and
# notifications go to a test datagram socket (NOTIFY_SOCKET) with a short
# watchdog (WATCHDOG_USEC). smmd must say READY=1 once it serves, feed the
# watchdog from its loop, say RELOADING=1 then READY=1 around a SIGHUP and
# STOPPING=1 on SIGTERM; smmctl must work over the passed socket, and the
# socket, being systemd's, must still be there after smmd exits. Without a
# watchdog, STATUS= follows the counts when they change, and only then.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

FAKE_BIN=$SMM_TOP_BUILDDIR/tests/systemd/smm-fake-systemd
grep -q -- '-DHAVE_LIBSYSTEMD=1' "$SMM_TOP_BUILDDIR/Makefile" ||
	skip "smmd was built without libsystemd"
[ -x "$FAKE_BIN" ] || skip "$FAKE_BIN is not built"

NOTIFY=$T/notify.sock
NLOG=$T/notify.log

# The notifications received so far, one a line.
notes() {
	cat "$NLOG"
}

# Line number of the first notification matching ERE $1 after line $2.
note_line() {
	awk -v re="$1" -v after="${2:-0}" \
		'NR > after && $0 ~ re { print NR; found = 1; exit }
		 END { if (!found) exit 1 }' "$NLOG"
}

wait_note() {
	wait_for "note_line '$1' ${2:-0} >/dev/null" "${3:-10}" ||
		fail "no notification matching '$1' after line ${2:-0}; got: $(notes | tr '\n' '|')"
	note_line "$1" "${2:-0}"
}

start_sink
write_config demo
mkdir -p "$T/run"
: >"$NLOG"
"$FAKE_BIN" notify-recv "$NOTIFY" >"$NLOG" 2>"$T/notify.err" &
E2E_PIDS+=("$!")
wait_for "[ -S '$NOTIFY' ]" 5 || fail "the notification socket did not appear"

printf -- '--- %s start smmd (socket-activated)\n' "$(date -u +%H:%M:%S.%3N)" \
	>>"$T/smmd.log"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000 \
	"$FAKE_BIN" activate "$SOCK" "$SMMD_BIN" -c "$CFG" --foreground \
	2>>"$T/smmd.log" &
SMMD_PID=$!
E2E_PIDS+=("$SMMD_PID")

ready=$(wait_note '^READY=1' 0 "$SMM_E2E_START_TIMEOUT")
grep -q "ready: .*socket '$SOCK'" "$T/smmd.log" ||
	fail "smmd did not report the passed socket as its own"
notes | sed -n "${ready}p" | grep -Eq 'STATUS=[0-9]+ scheduled, [0-9]+ retrying, [0-9]+ in flight' ||
	fail "READY=1 came without the counts in STATUS=: $(notes | sed -n "${ready}p")"

# smmctl over the socket smmd was given, a delivery through it, and the
# counts in STATUS= following the queue.
smmctl status >/dev/null || fail "smmctl status failed over the passed socket"
smmctl add -c demo --id sd-now "through a passed socket" >/dev/null
wait_state sd-now/demo published 10
smmctl add -c demo --id sd-later --at +1h "queued" >/dev/null
wait_note '^WATCHDOG=1 STATUS=1 scheduled, 0 retrying, 0 in flight$' "$ready" 5 >/dev/null

# 400 ms watchdog: a keep-alive every 200 ms, each from the loop.
n0=$(grep -c '^WATCHDOG=1' "$NLOG" || true)
sleep 1.2
n1=$(grep -c '^WATCHDOG=1' "$NLOG" || true)
log "$((n1 - n0)) watchdog keep-alives in 1.2 s"
[ $((n1 - n0)) -ge 3 ] || fail "only $((n1 - n0)) WATCHDOG=1 in 1.2 s (expected one every 200 ms)"
! grep -Eq 'MAINPID|ERRNO|BUSERROR' "$NLOG" || fail "unexpected notification: $(notes)"

# A reload is bracketed: RELOADING=1 (with the monotonic time systemd 253+
# wants), then READY=1 again.
last=$(wc -l <"$NLOG")
kill -HUP "$SMMD_PID"
reloading=$(wait_note '^RELOADING=1 MONOTONIC_USEC=[0-9]+' "$last")
wait_note '^READY=1' "$reloading" >/dev/null
smmctl status >/dev/null || fail "smmctl failed after the reload"

# A reload of a broken file keeps serving, and says so: READY=1.
cp "$CFG" "$T/good.yaml"
printf 'bogus_key: 1\n' >>"$CFG"
last=$(wc -l <"$NLOG")
kill -HUP "$SMMD_PID"
reloading=$(wait_note '^RELOADING=1' "$last")
wait_note '^READY=1' "$reloading" >/dev/null
mv "$T/good.yaml" "$CFG"

last=$(wc -l <"$NLOG")
stop_smmd
wait_note '^STOPPING=1' "$last" 5 >/dev/null
[ -S "$SOCK" ] || fail "smmd removed the socket systemd passed it"

# Started again on the same (still listening) socket, the post queued
# for later is still there: socket activation across a restart.
"$FAKE_BIN" activate "$T/run/second.sock" "$SMMD_BIN" -c "$CFG" --foreground \
	2>>"$T/smmd.log" &
SMMD_PID=$!
E2E_PIDS+=("$SMMD_PID")
wait_for "SMMD_SOCKET='$T/run/second.sock' '$SMMCTL_BIN' status >/dev/null 2>&1" \
	"$SMM_E2E_START_TIMEOUT" || fail "smmd did not answer on a second passed socket"
[ "$(SMMD_SOCKET=$T/run/second.sock "$SMMCTL_BIN" show sd-later --json |
	jq -r '.deliveries[0].state')" = scheduled ] || fail "sd-later lost its state"
grep -q "listening on '$T/run/second.sock', the socket systemd passed, not on the configured '$SOCK'" \
	"$T/smmd.log" || fail "no warning that the passed socket is not the configured one"
SMMD_SOCKET=$T/run/second.sock "$SMMCTL_BIN" cancel sd-later >/dev/null
stop_smmd

# Type=notify without a watchdog: STATUS= follows a change of the counts
# within a second, and while nothing changes smmd sends nothing and its
# loop does not turn (issue 14: idle costs nothing; it used to refresh
# STATUS= every 10 s).
export SMMD_SOCKET=$T/run/third.sock
last=$(wc -l <"$NLOG")
NOTIFY_SOCKET=$NOTIFY \
	"$FAKE_BIN" activate "$SMMD_SOCKET" "$SMMD_BIN" -c "$CFG" --foreground \
	2>>"$T/smmd.log" &
SMMD_PID=$!
E2E_PIDS+=("$SMMD_PID")
ready=$(wait_note '^READY=1' "$last" "$SMM_E2E_START_TIMEOUT")
smmctl add -c demo --id sd-follow --at +1h "queued" >/dev/null
t0=$(now_ms)
wait_note '^STATUS=1 scheduled, 0 retrying, 0 in flight$' "$ready" 5 >/dev/null
[ $(($(now_ms) - t0)) -lt 2500 ] ||
	fail "STATUS= followed the add only after $(($(now_ms) - t0)) ms"
turns() { smmctl status --json | jq -r .loop.turns; }
a=$(turns)
b=$(turns)
n0=$(wc -l <"$NLOG")
sleep 3
c=$(turns)
[ "$(wc -l <"$NLOG")" -eq "$n0" ] ||
	fail "idle, smmd told systemd: $(sed -n "$((n0 + 1)),\$p" "$NLOG" | tr '\n' '|')"
[ $((c - b)) -le $((b - a)) ] ||
	fail "idle, the loop turned $((c - b - (b - a))) times in 3 s beyond the readings"
smmctl cancel sd-follow >/dev/null
wait_note '^STATUS=0 scheduled, 0 retrying, 0 in flight$' "$n0" 5 >/dev/null
stop_smmd
log "ok"
