#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The bluesky publisher, as far as it goes without a session:
# - config: handle and app_password_file are required, a readable-by-all
#   password file is refused, service defaults to https://bsky.social.
# - length: texts are measured in grapheme clusters against Bluesky's 300
#   at plan time: `smmctl add`, the calendar and CSV import refuse 301
#   (naming the rule), and take 300 ZWJ families (5 code points, 18 bytes
#   each).
# - no session yet (auth.c keeps it): the delivery is held, never failed,
#   and the log says to run smmctl auth.
# The app password appears in no log line, store file or smmctl output.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

PASSWORD=canary-bsky-$(openssl rand -hex 8)
FAMILY=$'\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7'
start_sink
base=http://127.0.0.1:$SINK_PORT
(
	umask 077
	printf '%s\n' "$PASSWORD" >"$T/bsky.pass"
)
printf '%s\n' "$PASSWORD" >"$T/open.pass"
chmod 644 "$T/open.pass"

# --- config: what is missing or unsafe is named at its place.
cat >"$T/bad.yaml" <<YAML
state_dir: $T/state
socket: $SOCK
channels:
  nohandle:
    publisher: bluesky
    app_password_file: $T/bsky.pass
  open:
    publisher: bluesky
    handle: shop.bsky.social
    app_password_file: $T/open.pass
    language: English
YAML
run "$SMMD_BIN" --check-config -c "$T/bad.yaml"
[ "$rc" -ne 0 ] || fail "a bad bluesky config was accepted"
[[ $err == *"channel 'nohandle' has no 'handle'"* &&
	$err == *"bad.yaml:10:24: 'app_password_file': '$T/open.pass' is readable by group or others"* &&
	$err == *"bad.yaml:11:15: 'language' must be a language code"* ]] ||
	fail "config errors: $err"
[[ $err != *"$PASSWORD"* ]] || fail "a config error shows the app password"

cat >"$CFG" <<YAML
state_dir: $T/state
socket: $SOCK
channels:
  sky:
    publisher: bluesky
    service: $base/pds/
    handle: shop.bsky.social
    app_password_file: $T/bsky.pass
    retry_base: 100ms
    retry_max: 1s
YAML
"$SMMD_BIN" --check-config -c "$CFG" >"$T/check.out" 2>&1 ||
	fail "config refused: $(cat "$T/check.out")"
start_smmd

# --- length: 300 graphemes fit, 301 do not (a family is one).
long=""
for _ in $(seq 300); do long+=$FAMILY; done
run smmctl add -c sky --id fits --at "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" "$long"
[ "$rc" -eq 0 ] || fail "300 graphemes (5400 bytes) refused: $err"
run smmctl add -c sky --id over "$long!"
[[ $rc -eq 65 && $err == *"text is 301 graphemes, 1 over channel 'sky''s limit of 300 (bluesky's rule)"* ]] ||
	fail "301 graphemes: exit $rc: $err"
run smmctl show over
[ "$rc" -ne 0 ] || fail "an over-long post was queued"

# The calendar and CSV import count the same way.
{
	printf 'timezone: UTC\nposts:\n'
	printf '  - id: cal-fits\n    at: 2030-01-01 10:00\n    channels: [sky]\n'
	printf '    text: "%s"\n' "$long"
	printf '  - id: cal-over\n    at: 2030-01-01 11:00\n    channels: [sky]\n'
	printf '    text: "%s!"\n' "$long"
} >"$T/calendar.yaml"
sed "s|^channels:|calendar: $T/calendar.yaml\nchannels:|" "$CFG" >"$T/cal.yaml"
run "$SMMD_BIN" --check-config -c "$T/cal.yaml"
[[ $rc -ne 0 && $err == *"calendar.yaml:10:11: text is 301 graphemes, 1 over channel 'sky''s limit of 300 (bluesky's rule)"* &&
	$err != *":6:11:"* ]] || fail "calendar: exit $rc: $err"
printf 'id,text,channels,at\nc1,"%s",sky,2030-01-01 10:00\nc2,"%s!",sky,2030-01-01 11:00\n' \
	"$long" "$long" >"$T/posts.csv"
run smmctl import "$T/posts.csv"
[[ $rc -eq 65 && $err == *"posts.csv:3:text: text is 301 graphemes, 1 over channel 'sky''s limit of 300 (bluesky's rule)"* &&
	$err != *"posts.csv:2:"* ]] || fail "import: exit $rc: $err"

# --- no session: held, not failed, and the log says what to do.
smmctl add -c sky --id held 'Hello #bluesky https://example.org' >/dev/null
wait_for "grep -q \"delivery 'held/sky': no Bluesky session yet: run smmctl auth sky\" '$T/smmd.log'" 15 ||
	fail "the log does not say the session is missing"
state=$(delivery_state held/sky)
[ "$state" != failed ] || fail "a delivery without a session failed"
[ "$(sink_requests | jq -s length)" -eq 0 ] || fail "something reached the sink without a session"

# --- the app password is nowhere.
outputs=$(smmctl show held; smmctl show held --json; smmctl list --json; smmctl status)
stop_smmd
for f in "$T/smmd.log" "$T"/state/*; do
	[ -f "$f" ] || continue
	! grep -qaF "$PASSWORD" "$f" || fail "the app password is in $f"
done
[[ $outputs != *"$PASSWORD"* ]] || fail "an smmctl output shows the app password"
log "ok"
