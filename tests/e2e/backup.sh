#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# smmctl backup while smmd publishes: 5,000 posts due over about 4 s on 4
# channels, a backup taken in the middle. The copy is a valid SQLite file
# (integrity_check), smmd never stopped publishing (every post reaches the
# sink), and the copy, restored as the README says into a new state
# directory, has every post and every publication that smmd had recorded
# before the backup was asked for. An existing file is never overwritten;
# a read-only peer may not ask (checked in readonly.sh's way: the flag).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

start_sink
write_config c1 c2 c3 c4
start_smmd

# smmctl's request shape, on one connection, without smmctl.
raw() {
	printf '%s\n' "$1" | socat -t 60 - "UNIX-CONNECT:$SOCK"
}
arrivals() {
	wc -l <"$SINK_LOG"
}
published() {
	raw '{"id":1,"cmd":"list","args":{"status":"published","limit":100000}}' |
		jq -r '.result.deliveries[].id' | sort
}

N=5000
t0=$(($(now_ms) + 2000))
jq -n -c --argjson n "$N" --argjson t0 "$t0" "$JQ_ISO"'
	range($n) | {id: ., cmd: "add", args: {
		channels: ["c" + (. % 4 + 1 | tostring)],
		id: "b\(.)", text: "t", at: iso($t0 + (. * 4000 / $n | floor))}}' \
	>"$T/adds"
add_all "$T/adds" "$N"

# In the middle of the burst: what smmd has recorded, then the backup.
wait_for "[ \"\$(arrivals)\" -ge $((N / 4)) ]" 20 ||
	fail "the burst did not start: $(arrivals) requests"
published >"$T/before"
[ "$(wc -l <"$T/before")" -lt "$N" ] ||
	fail "the burst was over before the backup: nothing to prove"
run smmctl backup "$T/copy.db"
[ "$rc" -eq 0 ] || fail "backup failed ($rc): $err"
[[ $out == "backup: $T/copy.db: "*" bytes, the store as of "* ]] ||
	fail "backup said: $out"
[ "$(stat -c %a "$T/copy.db")" = 600 ] ||
	fail "the copy is mode $(stat -c %a "$T/copy.db"), not 600"
[ "$(sqlite3 "$T/copy.db" 'PRAGMA integrity_check')" = ok ] ||
	fail "the copy fails integrity_check"
log "backup of $(wc -l <"$T/before") published of $N: $out"
grep -q "info backup: .* bytes, the store as of" "$T/smmd.log" ||
	fail "no log line for the backup"

# Never over an existing file: it is left as it was.
echo precious >"$T/taken"
run smmctl backup "$T/taken"
[ "$rc" -eq 73 ] && [[ $err == *"cannot create '$T/taken': File exists (not overwriting it)"* ]] ||
	fail "backup over an existing file: exit $rc: $err"
[ "$(cat "$T/taken")" = precious ] || fail "an existing file was changed"

# smmd went on publishing meanwhile: everything arrives.
wait_for "[ \"\$(arrivals)\" -ge $N ]" 30 ||
	fail "only $(arrivals) of $N posts arrived after the backup"
stop_smmd

# Restore as the README says: a new state directory, the copy as smmd.db.
mkdir -m 700 "$T/restored"
cp "$T/copy.db" "$T/restored/smmd.db"
sed -i "s|^state_dir: .*|state_dir: $T/restored|" "$CFG"
start_smmd
published >"$T/after"
missing=$(comm -23 "$T/before" "$T/after" | wc -l)
[ "$missing" -eq 0 ] ||
	fail "$missing publications recorded before the backup are not in it: $(comm -23 "$T/before" "$T/after" | head -n 3)"
total=$(raw '{"id":1,"cmd":"list","args":{"limit":100000}}' |
	jq '.result.deliveries | length')
[ "$total" -eq "$N" ] || fail "the restored store has $total deliveries, not $N"
log "restored: $(wc -l <"$T/after") published, $total deliveries"
stop_smmd
log "ok"
