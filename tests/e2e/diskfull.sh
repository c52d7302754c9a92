#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# The state directory on a small file system that fills up, then turns
# read-only: smmd says why once, answers add and reload with a clear error
# (exit 75), sends nothing whose start it could not record, still answers
# reads, and once writes work again carries on by itself (executed afresh
# in place: the same pid, the socket kept), with nothing recorded lost and
# what fell due meanwhile caught up. A damaged or emptied database at start
# stops smmd with a clear message, and the file is left as it was.
# Runs in a private mount namespace: the small file system is a tmpfs.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

if [ -z "${SMM_DISKFULL_NS:-}" ]; then
	unshare -m true 2>/dev/null || skip "no private mount namespace here"
	# exec runs no exit trap: this $T goes now; the inner run makes its own.
	rm -rf "$T"
	SMM_DISKFULL_NS=1 exec unshare -m bash "$0"
fi
STATE=$T/state
RO=$T/ro-state
dev=
mkdir -p "$STATE"
e2e_teardown() {
	umount -l "$STATE" "$RO" 2>/dev/null
	[ -z "$dev" ] || losetup -d "$dev" 2>/dev/null
}
mount -t tmpfs -o size=4m,mode=700 tmpfs "$STATE" ||
	skip "cannot mount a small file system"

start_sink
write_config -g "catch_up: 1h" demo
start_smmd
pid=$SMMD_PID

# Recorded before the trouble: three published, three due later.
for i in 1 2 3; do
	smmctl add -c demo --id "early$i" "before the disk filled" >/dev/null
done
for i in 1 2 3; do
	wait_state "early$i/demo" published 10
done
later=$(ms_to_iso $(($(now_ms) + 8000)))
for i in 1 2 3; do
	smmctl add -c demo --id "later$i" --at "$later" "due during it" >/dev/null
done

# ---- the disk fills up ------------------------------------------------
dd if=/dev/zero of="$STATE/filler" bs=64k 2>/dev/null || true
# The log starts over in place after a checkpoint and is never cut
# short, so a commit that fits in the blocks it already has still goes
# through on a full disk: that add is kept, and may go out. Add until one
# is refused; each kept one is checked once the space is back.
kept=0
while :; do
	refused=full$((kept + 1))
	run smmctl add -c demo --id "$refused" "written to a full disk"
	[ "$rc" -eq 0 ] && [ "$kept" -lt 200 ] || break
	kept=$((kept + 1))
done
log "adds kept on the full disk before one was refused: $kept"
[ "$rc" -eq 75 ] || fail "add on a full disk: exit $rc ($out$err)"
[[ $err == *"the store cannot be written"* ]] ||
	fail "add on a full disk said: $err"
wait_for "grep -q 'error store: cannot write: ' '$T/smmd.log'" 5 ||
	fail "no log line about the store"
grep 'error store: cannot write: ' "$T/smmd.log" | grep -q 'full' ||
	fail "the log does not say the disk is full: $(grep 'store: cannot' "$T/smmd.log")"
# Every change is refused at once now, with why and since when.
run smmctl add -c demo --id again1 "again"
[ "$rc" -eq 75 ] && [[ $err == *"'add' refused: the store cannot be written since "* ]] ||
	fail "second add: exit $rc: $err"
run smmctl reload
[ "$rc" -eq 75 ] || fail "reload on a full disk: exit $rc: $err"
smmctl status >/dev/null || fail "status (a read) failed on a full disk"
# Nothing leaves whose start could not be recorded: the later posts are
# due now, and none reaches the sink while the disk is full.
sent=$(grep -c '"/hook/demo"' "$SINK_LOG")
sleep "$(awk -v t="$(iso_to_ms "$later")" -v n="$(now_ms)" \
	'BEGIN { s = (t - n) / 1000 + 1.5; print (s > 0 ? s : 0) }')"
[ "$(grep -c '"/hook/demo"' "$SINK_LOG")" -eq "$sent" ] ||
	fail "a request left while the store could not record it"
[ "$(grep -c 'error store: cannot write: ' "$T/smmd.log")" -eq 1 ] ||
	fail "the store's failure was logged more than once"

# ---- space returns: smmd carries on by itself ---------------------------
rm -f "$STATE/filler"
wait_for "grep -q 'takes writes again' '$T/smmd.log'" 10 ||
	fail "smmd did not notice the space came back"
wait_for "smmctl status >/dev/null 2>&1" 10 || fail "smmd did not come back"
[ "$(smmctl status --json | jq .pid)" = "$pid" ] ||
	fail "smmd came back as pid $(smmctl status --json | jq .pid), not $pid"
for i in 1 2 3; do
	wait_state "later$i/demo" published 15
	[ "$(delivery_state "early$i/demo")" = published ] ||
		fail "early$i was lost"
done
run smmctl show "$refused"
[ "$rc" -ne 0 ] || fail "the refused add $refused exists after all"
for ((i = 1; i <= kept; i++)); do
	wait_state "full$i/demo" published 15
done
smmctl add -c demo --id after1 "after the space came back" >/dev/null ||
	fail "add failed after the space came back"
wait_state after1/demo published 10

# ---- the file system turns read-only ------------------------------------
# What a failing disk does: ext4 with errors=remount-ro goes read-only
# under smmd's open files (tmpfs cannot: a remount waits for writers).
stop_smmd
if dev=$(losetup -f --show "$(truncate -s 32M "$T/ext4.img" &&
	mkfs.ext4 -q -F "$T/ext4.img" && echo "$T/ext4.img")" 2>/dev/null); then
	mkdir -p "$RO"
	mount -o errors=remount-ro "$dev" "$RO"
	cp -a "$STATE"/smmd.db "$RO"/
	chmod 700 "$RO"
	sed -i "s|^state_dir: .*|state_dir: $RO|" "$CFG"
	start_smmd
	smmctl add -c demo --id ro0 "before it turned read-only" >/dev/null
	wait_state ro0/demo published 10
	ro_later=$(ms_to_iso $(($(now_ms) + 3000)))
	smmctl add -c demo --id ro-later --at "$ro_later" "due after" >/dev/null
	sent=$(grep -c '"/hook/demo"' "$SINK_LOG")
	echo 1 >"/sys/fs/ext4/$(basename "$dev")/trigger_fs_error"
	run smmctl add -c demo --id ro1 "written to a read-only disk"
	[ "$rc" -eq 75 ] || fail "add on a read-only file system: exit $rc ($err)"
	wait_for "[ \"\$(grep -c 'error store: cannot write: ' '$T/smmd.log')\" -eq 2 ]" 5 ||
		fail "no log line for the read-only file system"
	grep 'error store: cannot write: ' "$T/smmd.log" | tail -n 1 |
		grep -q 'Read-only file system' ||
		fail "the log does not say read-only: $(grep 'store: cannot' "$T/smmd.log" | tail -n 1)"
	sleep 4
	[ "$(grep -c '"/hook/demo"' "$SINK_LOG")" -eq "$sent" ] ||
		fail "a request left while the file system was read-only"
	smmctl status >/dev/null || fail "status failed on a read-only disk"
	# The operator stops smmd, repairs, mounts again: nothing was lost.
	stop_smmd
	umount "$RO"
	e2fsck -fy "$dev" >/dev/null 2>&1 || true
	mount "$dev" "$RO"
	start_smmd
	[ "$(delivery_state ro0/demo)" = published ] || fail "ro0 was lost"
	wait_state ro-later/demo published 15
	run smmctl show ro1
	[ "$rc" -ne 0 ] || fail "the refused add ro1 exists after all"
	stop_smmd
	umount "$RO"
	losetup -d "$dev"
	dev=
	sed -i "s|^state_dir: .*|state_dir: $STATE|" "$CFG"
else
	log "no loop device here: the read-only case is not run"
fi

# ---- a damaged database at start ----------------------------------------
cp "$STATE/smmd.db" "$T/good.db"
dd if=/dev/urandom of="$STATE/smmd.db" bs=4096 seek=2 count=2 conv=notrunc \
	2>/dev/null
cp "$STATE/smmd.db" "$T/damaged.db"
run "$SMMD_BIN" -c "$CFG" --foreground
[ "$rc" -ne 0 ] || fail "smmd started on a damaged database"
[[ $err == *"damaged"*"smmd will not start on it, nor replace it with an empty one"* ]] ||
	fail "damaged database: unclear message: $err"
cmp -s "$STATE/smmd.db" "$T/damaged.db" || fail "smmd changed the damaged file"
# An emptied one is not a new database either.
: >"$STATE/smmd.db"
rm -f "$STATE/smmd.db-wal" "$STATE/smmd.db-shm"
run "$SMMD_BIN" -c "$CFG" --foreground
[ "$rc" -ne 0 ] || fail "smmd started on an emptied database"
[[ $err == *"is empty"* ]] || fail "empty database: unclear message: $err"
[ ! -s "$STATE/smmd.db" ] || fail "smmd wrote into the emptied file"
log "ok"
