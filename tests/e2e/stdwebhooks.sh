#!/bin/bash
# shellcheck disable=SC2119 # lib.sh helpers take optional arguments
# Standard Webhooks interop, checked by a receiver's own code: the
# specification's reference library (npm "standardwebhooks", on Node)
# verifies smmd's requests for a secret made by "smmd --new-secret"
# (whsec_<base64>), for both keys during a rotation (secret_file plus
# previous_secret_file: two "v1," signatures in one header), and for a
# raw-bytes secret file given to the receiver as whsec_ + its base64; a
# request never verifies under a key that did not sign it, and a malformed
# whsec_ file is refused without being echoed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# The library, installed once per build tree from the npm registry.
NPM_DIR=$SMM_TOP_BUILDDIR/tests/npm
VERIFY=$SMM_TOP_SRCDIR/tests/e2e/stdwebhooks-verify.js
need_library() {
	command -v node >/dev/null && command -v npm >/dev/null ||
		return 1
	[ -d "$NPM_DIR/node_modules/standardwebhooks" ] && return 0
	mkdir -p "$NPM_DIR"
	timeout 300 npm install --prefix "$NPM_DIR" --no-audit --no-fund \
		--no-save standardwebhooks@1 >"$T/npm.log" 2>&1
}
if ! need_library; then
	[ "${CI:-}" != true ] ||
		fail "cannot install npm standardwebhooks: $(tail -n 5 "$T/npm.log" 2>/dev/null)"
	skip "node, npm or the npm registry is not available"
fi

# verify PATH SECRET: the library's verdicts on every request to PATH.
verify() {
	NODE_PATH=$NPM_DIR/node_modules node "$VERIFY" "$SINK_LOG" "$1" "$2"
}

secret_file() {
	(umask 077 && printf '%s' "$2" >"$T/$1")
}

new=$("$SMMD_BIN" --new-secret)
old=$("$SMMD_BIN" --new-secret)
[[ $new =~ ^whsec_[A-Za-z0-9+/]{43}=$ ]] || fail "--new-secret printed '$new'"
[ "$new" != "$old" ] || fail "--new-secret printed the same secret twice"
# A file as the docs say to make one (with its newline), and a raw one.
(umask 077 && "$SMMD_BIN" --new-secret >"$T/new.secret")
new=$(cat "$T/new.secret")
secret_file old.secret "$old"
raw='raw key bytes, not base64!'
secret_file raw.secret "$raw"

start_sink
write_config "plain,secret=no" "rotating,secret=no" "raw,secret=no"
sed -i "/\/hook\/plain$/a\\    secret_file: $T/new.secret" "$CFG"
sed -i "/\/hook\/rotating$/a\\    secret_file: $T/new.secret\\n    previous_secret_file: $T/old.secret" "$CFG"
sed -i "/\/hook\/raw$/a\\    secret_file: $T/raw.secret" "$CFG"
start_smmd
for c in plain rotating raw; do
	smmctl add -c "$c" --id "s-$c" "signed for $c: ünïcode, \"quotes\"" \
		--link "https://example.org/?a=1&b=2" >/dev/null
done
for c in plain rotating raw; do
	wait_state "s-$c/$c" published 15
done

out=$(verify /hook/plain "$new")
[[ $out == "ok "* ]] || fail "the library rejects smmd's signature: $out"
out=$(verify /hook/plain "$old")
[[ $out == "bad "* ]] || fail "a request verified under a key that did not sign it: $out"

# During a rotation receivers with either key verify.
sig=$(jq -r 'select(.path == "/hook/rotating") | .headers["webhook-signature"]' "$SINK_LOG")
[[ $sig =~ ^v1,[A-Za-z0-9+/]{43}=\ v1,[A-Za-z0-9+/]{43}=$ ]] ||
	fail "a rotating channel's header is not two v1 signatures: $sig"
out=$(verify /hook/rotating "$new")
[[ $out == "ok "* ]] || fail "the new key does not verify a rotating request: $out"
out=$(verify /hook/rotating "$old")
[[ $out == "ok "* ]] || fail "the previous key does not verify a rotating request: $out"

# A raw-bytes file: the receiver holds the same bytes, in whsec_ form.
out=$(verify /hook/raw "whsec_$(printf '%s' "$raw" | base64 -w0)")
[[ $out == "ok "* ]] || fail "a raw-bytes key does not verify: $out"
stop_smmd

# Ending the rotation: previous_secret_file removed, one signature again.
sed -i '/previous_secret_file/d' "$CFG"
start_smmd
smmctl add -c rotating --id s-after "after the rotation" >/dev/null
wait_state s-after/rotating published 15
sig=$(jq -r 'select(.path == "/hook/rotating") | .headers["webhook-signature"]' "$SINK_LOG" | tail -n 1)
[[ $sig =~ ^v1,[A-Za-z0-9+/]{43}=$ ]] || fail "after the rotation: $sig"
[ "$(verify /hook/rotating "$old" | tail -n 1 | cut -d' ' -f1)" = bad ] ||
	fail "the retired key still verifies"
stop_smmd

# A malformed whsec_ file: refused, named, never echoed.
secret_file bad.secret "whsec_not*base64*at*all"
sed -i "s|$T/raw.secret|$T/bad.secret|" "$CFG"
run "$SMMD_BIN" --check-config -c "$CFG"
[ "$rc" -eq 1 ] || fail "a malformed whsec_ secret passed --check-config"
[[ $err == *"'secret_file': the file starts with 'whsec_' but the rest is not the base64 of a 24 to 64 byte key"* ]] ||
	fail "unexpected diagnostic: $err"
[[ $err != *"not*base64"* ]] || fail "the diagnostic echoes the secret: $err"
log "ok"
