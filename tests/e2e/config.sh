#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# smmd --check-config reports every error as FILE:LINE:COLUMN: message, all
# at once; SIGHUP reloads the configuration of a running daemon.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# check FILE: run smmd --check-config; sets rc, out (stdout+stderr).
check() {
	rc=0
	"$SMMD_BIN" --check-config -c "$1" >"$T/check.out" 2>&1 || rc=$?
	out=$(cat "$T/check.out")
}

# has_error FILE LINE [LINE2]: an error line at LINE (or LINE2) exists.
has_error() {
	grep -Eq "^$1:($2${3:+|$3}):[0-9]+: [^ ]" "$T/check.out"
}

run_version() {
	"$SMMD_BIN" --version
}
[ "$(run_version)" = "smmd 0.1.0" ] || fail "smmd --version printed '$(run_version)'"

# A good configuration (the sink need not run for a check).
SINK_PORT=9
write_config demo "shop,max_attempts=3,connect_timeout=2s"
check "$CFG"
[ "$rc" -eq 0 ] || fail "check-config of a good file exited $rc: $out"

# Four errors at once, one line each, at the lines they are on.
bad=$T/bad.yaml
cat >"$bad" <<YAML
state_dir: $T/state
socket: $SOCK
bogus_key: 1
channels:
  demo:
    publisher: webhook
    url: http://127.0.0.1:9/hook
    timeout: 10 parsecs
  ftp:
    publisher: webhook
    url: ftp://127.0.0.1/x
  nourl:
    publisher: webhook
    timeout: 5s
YAML
check "$bad"
log "check-config of bad.yaml -> exit $rc:"
printf '%s\n' "$out" >&2
[ "$rc" -eq 1 ] || fail "check-config of a bad file exited $rc, expected 1"
has_error "$bad" 3 || fail "no error for the unknown key on line 3"
has_error "$bad" 8 || fail "no error for the bad duration on line 8"
has_error "$bad" 11 || fail "no error for the ftp:// url on line 11"
has_error "$bad" 12 13 || fail "no error for the missing url of channel 'nourl' (line 12)"
grep -q bogus_key "$T/check.out" || fail "the unknown-key error does not name bogus_key"
n=$(grep -Ec "^$bad:[0-9]+:[0-9]+: " "$T/check.out" || true)
[ "$n" -eq 4 ] || fail "expected exactly 4 error lines, got $n"

# Malformed YAML: an unclosed quote, then bad indentation.
cat >"$T/quote.yaml" <<YAML
state_dir: $T/state
socket: $SOCK
channels:
  demo:
    publisher: webhook
    url: "http://127.0.0.1:9/hook
    timeout: 5s
YAML
check "$T/quote.yaml"
log "unclosed quote -> exit $rc: $out"
[ "$rc" -eq 1 ] || fail "check-config of an unclosed quote exited $rc"
has_error "$T/quote.yaml" '[678]' || fail "no FILE:LINE:COLUMN: error near line 6 for an unclosed quote: $out"

cat >"$T/indent.yaml" <<YAML
state_dir: $T/state
socket: $SOCK
channels:
  demo:
    publisher: webhook
   url: http://127.0.0.1:9/hook
    timeout: 5s
YAML
check "$T/indent.yaml"
log "bad indentation -> exit $rc: $out"
[ "$rc" -eq 1 ] || fail "check-config of bad indentation exited $rc"
has_error "$T/indent.yaml" '[567]' || fail "no FILE:LINE:COLUMN: error near line 6 for bad indentation: $out"

# A file that does not exist.
check "$T/missing.yaml"
[ "$rc" -eq 1 ] || fail "check-config of a missing file exited $rc"
case $out in
*"$T/missing.yaml"*) ;;
*) fail "the error for a missing file does not name it: $out" ;;
esac

# SIGHUP: a channel added to the file becomes usable without a restart.
start_sink
write_config demo
start_smmd
rc=0
smmctl add -c second "too early" >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "channel 'second' exists before the reload"
write_config demo second
kill -HUP "$SMMD_PID"
wait_for "smmctl add -c second --id hup1 'after reload' >/dev/null 2>&1" 10 ||
	fail "channel 'second' is not usable 10 s after SIGHUP"
wait_state hup1/second published 15
[ "$(sink_posts_for hup1 | jq -r '.[0].path')" = /hook/second ] ||
	fail "hup1 did not go to /hook/second"
smmctl status --json | jq_true '.channels | index("second") != null' ||
	fail "status does not list channel 'second' after the reload"

# A broken file on SIGHUP: smmd keeps running on the old configuration.
cp "$bad" "$CFG"
kill -HUP "$SMMD_PID"
wait_for "grep -q 'bogus_key' '$T/smmd.log'" 10 ||
	fail "smmd did not report the errors of a broken file on SIGHUP"
smmd_alive || fail "smmd exited on a broken configuration at SIGHUP"
smmctl add -c second --id hup2 "old config still on" >/dev/null ||
	fail "after a failed reload the old configuration is gone"
wait_state hup2/second published 15

stop_smmd
log "ok"
