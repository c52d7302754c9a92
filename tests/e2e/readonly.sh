#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Who may use the control socket, tried as real other users: members of
# readonly_group may read (status, list, show, agenda) and nothing that
# changes state; control_group members operate; anyone else is refused at
# accept. Without readonly_group the socket stays 0660. Test users and
# groups are created (as root) when missing and removed again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to run smmctl as other users"
for tool in setpriv useradd groupadd userdel groupdel; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done

CREATED_USERS=()
CREATED_GROUPS=()
drop_accounts() {
	local u g
	for u in ${CREATED_USERS[@]+"${CREATED_USERS[@]}"}; do
		userdel "$u" 2>/dev/null || true
	done
	for g in ${CREATED_GROUPS[@]+"${CREATED_GROUPS[@]}"}; do
		groupdel "$g" 2>/dev/null || true
	done
}
trap 'rc=$?; drop_accounts; e2e_cleanup $rc' EXIT

need_group() {
	getent group "$1" >/dev/null && return 0
	groupadd -r "$1" 2>/dev/null || skip "cannot create group $1"
	CREATED_GROUPS+=("$1")
}
# need_user NAME GROUP: a user whose primary group is GROUP.
need_user() {
	getent passwd "$1" >/dev/null && return 0
	useradd -r -M -N -g "$2" -s /usr/sbin/nologin "$1" 2>/dev/null ||
		skip "cannot create user $1"
	CREATED_USERS+=("$1")
}
need_group smm-e2e-ro
need_group smm-e2e-ctl
need_group smm-e2e-none
need_user smm-e2e-reader smm-e2e-ro
need_user smm-e2e-oper smm-e2e-ctl
need_user smm-e2e-other smm-e2e-none

# Run smmctl as USER with only that user's own groups.
as() {
	local user=$1 uid gid
	shift
	uid=$(id -u "$user")
	gid=$(id -g "$user")
	setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		env SMMD_SOCKET="$SOCK" "$SMMCTL_BIN" "$@"
}

# The other users must reach the socket: its directories are searchable.
chmod 0755 "$T"
start_sink
# Plan B scenarios only named approvers (users or groups) may activate.
CAL=$T/calendar.yaml
cat >"$CAL" <<'YAML'
planb:
  legal:
    pause: all
    text: "A statement legal signs off."
    approvers: [comms-lead]
  ops:
    pause: {channels: [demo]}
    text: "A statement ops may publish."
    approvers: [comms-lead, smm-e2e-ctl]
YAML
write_config -g "control_group: smm-e2e-ctl" -g "readonly_group: smm-e2e-ro" \
	-g "calendar: $CAL" demo
start_smmd
chmod 0755 "$T/run"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 666 ] || fail "socket mode $mode with readonly_group, want 666"
smmctl add -c demo --id r1 --at "$(ms_to_iso $(($(now_ms) + 3600000)))" \
	"later" >/dev/null

# The reader reads...
as smm-e2e-reader status >/dev/null || fail "reader: status refused"
as smm-e2e-reader list | grep -q r1/demo || fail "reader: list misses r1"
as smm-e2e-reader show r1 >/dev/null || fail "reader: show refused"
as smm-e2e-reader calendar >/dev/null || fail "reader: calendar refused"
as smm-e2e-reader held >/dev/null || fail "reader: held refused"
as smm-e2e-reader audit >/dev/null || fail "reader: audit refused"
# ...and changes nothing, with a clear message and smmctl's exit 77.
for cmd in "add -c demo --id r2 text" "cancel r1" "retry r1/demo" \
	"resolve r1/demo --failed" "reload" "pause --all" "resume" \
	"release r1" "skip r1"; do
	st=0
	# shellcheck disable=SC2086 # the command's words
	as smm-e2e-reader $cmd 2>"$T/err" >/dev/null || st=$?
	[ "$st" -eq 77 ] || fail "reader: '$cmd' exited $st, want 77"
	grep -q "changes state, and uid $(id -u smm-e2e-reader) may only read" \
		"$T/err" || fail "reader: unclear refusal of '$cmd': $(cat "$T/err")"
done
[ "$(delivery_state r1/demo)" = scheduled ] || fail "a refused cancel cancelled"
# A copy of the whole store is for operators too.
rdir=$(mktemp -d /tmp/smm-e2e-reader.XXXXXX)
chown smm-e2e-reader "$rdir"
st=0
as smm-e2e-reader backup "$rdir/copy.db" 2>"$T/err" >/dev/null || st=$?
[ ! -e "$rdir/copy.db" ] || fail "reader: a refused backup left a file"
rm -rf "$rdir"
[ "$st" -eq 77 ] && grep -q "'backup' is for operators, and uid" "$T/err" ||
	fail "reader: backup exited $st: $(cat "$T/err")"

# The operator operates, and the audit trail names who paused and resumed
# from the socket's credentials, not from anything the client says.
as smm-e2e-oper pause --all -r "oper's call" >/dev/null || fail "operator: pause refused"
as smm-e2e-oper resume >/dev/null || fail "operator: resume refused"
smmctl audit --json | jq_true --argjson uid "$(id -u smm-e2e-oper)" \
	'.audit | map(select(.user == "smm-e2e-oper" and .uid == $uid))
	 | map(.action) == ["pause", "resume"]' ||
	fail "audit: $(smmctl audit --json | jq -c .audit)"
# An approver rule refuses another user; a group it names lets one in.
st=0
as smm-e2e-oper planb activate legal 2>"$T/err" >/dev/null || st=$?
[ "$st" -eq 77 ] || fail "operator: planb activate legal exited $st, want 77"
grep -q "only the approvers of plan B scenario 'legal'" "$T/err" ||
	fail "unclear approver refusal: $(cat "$T/err")"
smmctl status --json | jq_true '.pauses == []' || fail "a refused activation paused"
as smm-e2e-oper planb activate ops >/dev/null ||
	fail "operator (group smm-e2e-ctl) refused for 'ops'"
as smm-e2e-oper planb end >/dev/null || fail "operator: planb end refused"
as smm-e2e-oper cancel r1 >/dev/null || fail "operator: cancel refused"
[ "$(delivery_state r1/demo)" = cancelled ] || fail "operator's cancel lost"

# Anyone else is refused at accept, though the socket is 0666.
st=0
as smm-e2e-other status 2>"$T/err" >/dev/null || st=$?
[ "$st" -eq 77 ] || fail "stranger: status exited $st, want 77"
grep -q "permission denied" "$T/err" || fail "stranger: $(cat "$T/err")"
grep -q "refused uid $(id -u smm-e2e-other) .*or readonly_group" \
	"$T/smmd.log" || fail "the refusal is not logged"
stop_smmd

# Without readonly_group the socket is closed to readers at the file mode.
write_config -g "control_group: smm-e2e-ctl" demo
start_smmd
chmod 0755 "$T/run"
mode=$(stat -c %a "$SOCK")
[ "$mode" = 660 ] || fail "socket mode $mode without readonly_group, want 660"
st=0
as smm-e2e-reader status 2>/dev/null >/dev/null || st=$?
[ "$st" -eq 77 ] || fail "reader without readonly_group: exited $st, want 77"
as smm-e2e-oper status >/dev/null || fail "operator refused"
stop_smmd
log "ok"
