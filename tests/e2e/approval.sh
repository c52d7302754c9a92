#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Approvals (require_approval, approvers_group), against the sink and as
# real other users: a calendar post and an add on a channel that requires
# approval are drafts, listed by --awaiting-approval; an operator outside
# approvers_group is refused, a member (by a supplementary group, with no
# group active in its process) approves, and show and the audit trail say
# who and when; the approved post reaches the sink at its time; editing
# the calendar post's text withdraws its approval; a post still a draft
# when due is held "awaiting approval", never sent, not released by hand,
# and approving it lets it go; past max_lateness it stays held. Test users
# and groups are created (as root) when missing and removed again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to run smmctl as other users"
for tool in setpriv useradd groupadd userdel groupdel; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done

# Names of this test's own: readonly.sh may add and drop its users
# meanwhile.
CTL_GROUP=smm-e2e-apctl
APPROVERS=smm-e2e-apprv
OPER=smm-e2e-apop
SIGNER=smm-e2e-apsig
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
# need_user NAME GROUP [SUPPLEMENTARY]: a user whose primary group is GROUP.
need_user() {
	getent passwd "$1" >/dev/null && return 0
	useradd -r -M -N -g "$2" ${3:+-G "$3"} -s /usr/sbin/nologin "$1" \
		2>/dev/null || skip "cannot create user $1"
	CREATED_USERS+=("$1")
}
need_group "$CTL_GROUP"
need_group "$APPROVERS"
need_user "$OPER" "$CTL_GROUP"
need_user "$SIGNER" "$CTL_GROUP" "$APPROVERS"
id -nG "$SIGNER" | grep -qw "$APPROVERS" ||
	skip "$SIGNER is not in $APPROVERS (an older account of that name?)"

# smmctl as USER with only its primary group active: approvers_group
# membership must come from the group database, not the process.
as() {
	local user=$1
	shift
	setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" \
		--clear-groups env SMMD_SOCKET="$SOCK" "$SMMCTL_BIN" "$@"
}

chmod 0755 "$T"
start_sink
CAL=$T/calendar.yaml
cal_at=$(date -u -d "+1 hour" +%Y-%m-%dT%H:%M:%SZ)
# write_calendar TEXT [EXTRA]: cal1 saying TEXT, then EXTRA's posts.
write_calendar() {
	cat >"$CAL.tmp" <<YAML
posts:
  - id: cal1
    at: $cal_at
    channels: [shop, free]
    text: "$1"
${2:-}
YAML
	mv "$CAL.tmp" "$CAL"
}
write_calendar "Black Friday: 20% off"
write_config -g "control_group: $CTL_GROUP" -g "approvers_group: $APPROVERS" \
	-g "calendar: $CAL" "shop,require_approval=true" free \
	"late,require_approval=true,max_lateness=1s"
start_smmd
chmod 0755 "$T/run"

# ---- drafts: the calendar's and an add's ---------------------------------
run smmctl add -c shop --id ad1 --at +1h "an ad hoc post"
[ "$rc" -eq 0 ] && [ "$out" = ad1 ] || fail "add: exit $rc, out '$out'"
grep -q "post 'ad1' awaits approval" <<<"$err" ||
	fail "add does not say the post awaits approval: '$err'"
[ "$(delivery_state ad1/shop)" = draft ] || fail "ad1/shop is $(delivery_state ad1/shop)"
[ "$(delivery_state cal1/shop)" = draft ] || fail "cal1/shop is $(delivery_state cal1/shop)"
# A channel without require_approval is not held back.
[ "$(delivery_state cal1/free)" = scheduled ] ||
	fail "cal1/free is $(delivery_state cal1/free)"
list_json --awaiting-approval |
	jq_true 'map(.id) | sort == ["ad1/shop", "cal1/shop"]' ||
	fail "--awaiting-approval: $(list_json --awaiting-approval)"
list_json --status draft | jq_true 'length == 2' ||
	fail "--status draft: $(list_json --status draft)"
smmctl status --json | jq_true '.counts.draft == 2' ||
	fail "status counts: $(smmctl status --json | jq -c .counts)"

# ---- who may approve -----------------------------------------------------
st=0
as "$OPER" approve cal1 >/dev/null 2>"$T/err" || st=$?
[ "$st" -eq 77 ] || fail "$OPER (not an approver): approve exited $st, want 77"
grep -q "only root and the members of approvers_group '$APPROVERS' may approve" \
	"$T/err" || fail "unclear refusal: $(cat "$T/err")"
[ "$(delivery_state cal1/shop)" = draft ] || fail "a refused approve approved"
# Something that needs no approval says so.
st=0
smmctl approve cal1/free >/dev/null 2>"$T/err" || st=$?
[ "$st" -eq 65 ] && grep -q "needs no approval" "$T/err" ||
	fail "approve cal1/free: exit $st: $(cat "$T/err")"
st=0
smmctl approve nosuch >/dev/null 2>"$T/err" || st=$?
[ "$st" -eq 65 ] || fail "approve nosuch: exit $st: $(cat "$T/err")"

t_before=$(now_ms)
as "$SIGNER" approve cal1 >"$T/out" || fail "$SIGNER: approve refused"
grep -q "approved cal1/shop by $SIGNER at .*: scheduled" "$T/out" ||
	fail "approve said: $(cat "$T/out")"
[ "$(delivery_state cal1/shop)" = scheduled ] || fail "cal1/shop not scheduled once approved"
delivery_json cal1/shop | jq_true --arg u "$SIGNER" \
	--argjson uid "$(id -u "$SIGNER")" --argjson t0 "$t_before" \
	'.approval.approved and .approval.by == $u and .approval.uid == $uid
	 and ((.approval.at | sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000
	      >= ($t0 / 1000 | floor) * 1000)' ||
	fail "show: $(delivery_json cal1/shop | jq -c .approval)"
smmctl show cal1 | grep -q "approval .*by $SIGNER (uid $(id -u "$SIGNER")) at" ||
	fail "show does not print who approved: $(smmctl show cal1)"
st=0
smmctl approve cal1 >/dev/null 2>"$T/err" || st=$?
[ "$st" -eq 65 ] && grep -q "is approved already (by $SIGNER at" "$T/err" ||
	fail "a second approve: exit $st: $(cat "$T/err")"
smmctl audit --json | jq_true --arg u "$SIGNER" \
	'.audit | map(select(.action == "approve")) | length == 1 and
	 .[0].user == $u and .[0].detail.deliveries == ["cal1/shop"]' ||
	fail "audit: $(smmctl audit --json | jq -c .audit)"
grep -q "control: delivery 'cal1/shop' approved: by $SIGNER .*event=approved" \
	"$T/smmd.log" || fail "no approved event in the log"
# Root always may.
smmctl approve ad1 >/dev/null || fail "root: approve ad1 refused"
[ "$(delivery_state ad1/shop)" = scheduled ] || fail "ad1/shop not scheduled"

# ---- an edit withdraws the approval --------------------------------------
write_calendar "Black Friday: 25% off"
smmctl reload >/dev/null || fail "reload failed"
[ "$(delivery_state cal1/shop)" = draft ] ||
	fail "cal1/shop is $(delivery_state cal1/shop) after an edit, not draft"
delivery_json cal1/shop | jq_true '.approval.approved == false and .approval.by == null' ||
	fail "approval kept after an edit: $(delivery_json cal1/shop | jq -c .approval)"
[ "$(delivery_state cal1/free)" = scheduled ] || fail "cal1/free moved"
grep -q "calendar: delivery 'cal1/shop' is a draft again, its approval withdrawn: .*event=unapproved" \
	"$T/smmd.log" || fail "the withdrawal is not logged"
smmctl audit --json | jq_true '.audit | map(select(.action == "unapprove")) | length == 1
	and .[0].user == "smmd" and .[0].detail.id == "cal1/shop"' ||
	fail "the withdrawal is not audited: $(smmctl audit --json | jq -c .audit)"
# An unchanged reload keeps a new approval.
smmctl approve cal1 >/dev/null
kill -HUP "$SMMD_PID"
sleep 0.5
[ "$(delivery_state cal1/shop)" = scheduled ] || fail "a reload without an edit withdrew the approval"

# ---- due while a draft: held, never sent; approve lets it go -------------
smmctl add -c shop --id due1 --at +1s "not signed off in time" >/dev/null 2>&1
wait_state due1/shop held 10
delivery_json due1/shop | jq_true '.last_error == "awaiting approval"' ||
	fail "held reason: $(delivery_json due1/shop | jq -c .last_error)"
smmctl held --json | jq_true '.held | map(select(.id == "due1/shop")) | .[0].reason == "awaiting approval"' ||
	fail "held: $(smmctl held --json | jq -c .held)"
list_json --awaiting-approval | jq_true 'map(.id) | index("due1/shop") != null' ||
	fail "a held draft is not listed as awaiting approval"
st=0
smmctl release due1 >/dev/null 2>"$T/err" || st=$?
[ "$st" -eq 65 ] && grep -q "held awaiting approval" "$T/err" ||
	fail "release of an unapproved post: exit $st: $(cat "$T/err")"
settle free
[ "$(sink_count due1)" -eq 0 ] || fail "an unapproved post reached the sink"
[ "$(delivery_state due1/shop)" = held ] || fail "due1/shop is $(delivery_state due1/shop)"
as "$SIGNER" approve due1 >"$T/out" || fail "approve due1 refused"
grep -q "approved due1/shop by $SIGNER at .*: released now" "$T/out" ||
	fail "approve due1 said: $(cat "$T/out")"
wait_arrivals due1 1 10
wait_state due1/shop published 10

# ---- approved ahead: it goes out at its time, once -----------------------
due_ms=$(($(now_ms) + 3000))
smmctl add -c shop --id go1 --at "$(ms_to_iso "$due_ms")" "signed off" >/dev/null 2>&1
as "$SIGNER" approve go1 >/dev/null || fail "approve go1 refused"
wait_arrivals go1 1 15
sink_posts_for go1 | jq_true --argjson due "$due_ms" \
	'length == 1 and .[0].t_us >= $due * 1000' ||
	fail "go1 arrived early or twice: $(sink_posts_for go1 | jq -c 'map(.t_us)')"

# ---- approved after max_lateness: still held, for release or skip --------
smmctl add -c late --id late1 --at +1s "approved too late" >/dev/null 2>&1
wait_state late1/late held 10
sleep 2
smmctl approve late1 >"$T/out" || fail "approve late1 refused"
grep -q "still held, approved by root .* late, more than max_lateness (1s)" "$T/out" ||
	fail "approve late1 said: $(cat "$T/out")"
[ "$(delivery_state late1/late)" = held ] || fail "late1 is $(delivery_state late1/late)"
settle free
[ "$(sink_count late1)" -eq 0 ] || fail "a post approved too late went out"
smmctl release late1 >/dev/null || fail "release of an approved held post refused"
wait_arrivals late1 1 10

# ---- held awaiting approval, then edited: the approver sends the edit ----
due2=$(date -u -d "+2 seconds" +%Y-%m-%dT%H:%M:%SZ)
cal2() {
	printf '  - id: cal2\n    at: %s\n    channels: [shop]\n    text: "%s"\n' \
		"$due2" "$1"
}
write_calendar "Black Friday: 25% off" "$(cal2 "Doors open at 9")"
smmctl reload >/dev/null || fail "reload with cal2 failed"
wait_state cal2/shop held 10
write_calendar "Black Friday: 25% off" "$(cal2 "Doors open at 10")"
smmctl reload >/dev/null || fail "reload with cal2 edited failed"
[ "$(delivery_state cal2/shop)" = held ] || fail "cal2/shop is $(delivery_state cal2/shop) after the edit"
show_json cal2 | jq_true '.deliveries[0].text == "Doors open at 10"' ||
	fail "the held draft kept its old text: $(show_json cal2 | jq -c '.deliveries[0].text')"
smmctl approve cal2 >/dev/null || fail "approve cal2 refused"
wait_arrivals cal2 1 10
sink_posts_for cal2 | jq_true '.[0].post.text == "Doors open at 10"' ||
	fail "the approver sent the old text: $(sink_posts_for cal2 | jq -c '.[0].post.text')"

# Nothing that waited for an approval reached the sink unapproved.
[ "$(sink_count ad1)" -eq 0 ] && [ "$(sink_count cal1)" -eq 0 ] ||
	fail "a post due in an hour went out"
stop_smmd
log "ok"
