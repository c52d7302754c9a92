#!/bin/bash
# smmctl report against a real smmd and sink: known outcomes this month
# (published, failed by a 400, held by a pause, skipped, still to go,
# cancelled) counted exactly in --json, day by day in the report's zone;
# the HTML page then rendered by headless Chromium (Debian's chromium),
# its DOM read back for the headings, figures and chart marks, and its
# screenshot decoded to tell it from a blank page. A fixture with every
# section filled goes through the same renderer (report-render) and
# browser; its screenshot is the README's (doc/report.png is a copy of
# $SMM_TOP_BUILDDIR/tests/e2e/report.png). Without chromium the browser
# half is skipped (77).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

RENDER_BIN=$SMM_TOP_BUILDDIR/tests/e2e/report-render
FIXTURE=$SMM_TOP_SRCDIR/tests/unit/data/report/full.json
[ -x "$RENDER_BIN" ] || skip "$RENDER_BIN is not built"
# The days are this zone's: smmd has no calendar, so its own ($TZ).
export TZ=Europe/Paris

# Everything below is due within 10 minutes: not across a month's end.
next_month=$(date -d "$(date +%Y-%m-01) +1 month" +%s)
left=$((next_month - $(date +%s)))
if [ "$left" -lt 900 ]; then
	log "waiting ${left}s for the next month to begin"
	sleep $((left + 2))
fi
month=$(date +%Y-%m)
today=$(date +%Y-%m-%d)
ndays=$(date -d "$month-01 +1 month -1 day" +%d)

start_sink --rule 'POST /hook/blog 400 {"error":"bad <request>"}'
write_config demo blog paused
start_smmd

smmctl pause -c paused -r "crisis drill" >/dev/null
smmctl add -c demo --id ok1 --at +1s 'Launch <b>day</b> & "quotes"' >/dev/null
smmctl add -c blog --id bad --at +1s "refused by the blog" >/dev/null
smmctl add -c paused --id held1 --at +1s "held by the pause" >/dev/null
smmctl add -c paused --id held2 --at +1s "held, then skipped" >/dev/null
smmctl add -c demo --id later --at +5m "still to go" >/dev/null
smmctl add -c demo --id gone --at +5m "cancelled" >/dev/null
smmctl cancel gone >/dev/null
wait_state ok1/demo published 10
wait_state bad/blog failed 10
wait_state held1/paused held 10
wait_state held2/paused held 10
smmctl skip held2/paused >/dev/null
wait_state held2/paused skipped 10

# ---- --json: the counts, exactly ---------------------------------------
smmctl report --month "$month" --json >"$T/report.json" ||
	fail "report --json failed: $(cat "$T/report.json")"
jq_true --arg m "$month" --argjson n "$((10#$ndays))" '
	.zone == "Europe/Paris" and (.days | length) == $n
	and .days[0].date == ($m + "-01")
	and ([.days[].date] | unique | length) == $n
	and .summary.published == 1 and .summary.failed == 1
	and .summary.held == 1 and .summary.skipped == 1
	and .summary.cancelled == 1 and .summary.on_time_rate == 1
	and (.summary.lateness_p50_ms | type) == "number"
	and .engagement == [] and .goals == []
	and .top_posts == [] and .audience == [] and .problems_more == 0' \
	<"$T/report.json" || fail "report's frame: $(jq -c '{zone, n: (.days | length),
		first: .days[0].date, summary}' "$T/report.json")"
totals=$(jq -c '[.days[] | del(.date, .by_channel, .posts, .more)]
	| reduce .[] as $d ({}; reduce ($d | keys[]) as $k (.; .[$k] += $d[$k]))' \
	"$T/report.json")
[ "$totals" = '{"cancelled":1,"failed":1,"held":1,"missed":0,"planned":5,"published":1,"skipped":1,"unknown":0,"waiting":1}' ] ||
	fail "report's totals: $totals"
jq_true --arg d "$today" '.days[] | select(.date == $d)
	| .by_channel.demo.published == 1 and .by_channel.blog.failed == 1
	  and .by_channel.paused.held == 1 and .by_channel.paused.skipped == 1
	  and (.posts | map(select(.id == "ok1/demo"))[0]
	       | .state == "published" and .channel == "demo"
	         and .text == "Launch <b>day</b> & \"quotes\""
	         and (.time | test("^[0-2][0-9]:[0-5][0-9]$")))
	  and (.posts | map(.id) | index("gone/demo")) == null' \
	<"$T/report.json" ||
	fail "today's entry: $(jq -c --arg d "$today" '.days[] | select(.date == $d)' "$T/report.json")"
jq_true '.problems_more == 0 and (.problems | length) == 3
	and (.problems | map(select(.id == "bad/blog"))[0]
	     | .state == "failed" and (.reason | test("400")))
	and (.problems | map(select(.id == "held1/paused"))[0].state) == "held"
	and (.problems | map(select(.id == "held2/paused"))[0].state) == "skipped"' \
	<"$T/report.json" || fail "report's problems: $(jq -c .problems "$T/report.json")"
# The same range given by its edges, and a bad month.
smmctl report --since "$month-01" --json | jq_true --argjson n "$((10#$ndays))" \
	'(.days | length) == $n' || fail "--since alone is not this month"
run smmctl report --month 2026-13
[ "$rc" -eq 64 ] && [[ $err == *"--month wants YYYY-MM"* ]] ||
	fail "report --month 2026-13: exit $rc: $err"

# ---- the page ----------------------------------------------------------
smmctl report --month "$month" -o "$T/out.html" || fail "report -o failed"
[ ! -e "$T/out.html.tmp" ] || fail "report left its temporary file"
grep -q '<meta charset="utf-8">' "$T/out.html" || fail "the page names no charset"
grep -q 'Launch &lt;b&gt;day&lt;/b&gt; &amp; &quot;quotes&quot;' "$T/out.html" ||
	fail "the post's text is not escaped in the page"
! grep -Eq '<(script|link|img|iframe)[ >]|url\(' "$T/out.html" ||
	fail "the page has a script or fetches something"
! grep -Eq '(href|src)=' "$T/out.html" || fail "the page links out, with no post URL"
# smmd served all that and stops cleanly (sanitizer builds: no leak).
stop_smmd

# ---- in a browser ------------------------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || skip "chromium is not installed (the report's browser checks)"
chrome() {
	local flags=(--headless --disable-gpu --hide-scrollbars
		--user-data-dir="$T/chrome" --no-first-run)
	# Chromium's sandbox refuses to run as root.
	[ "$(id -u)" -ne 0 ] || flags+=(--no-sandbox)
	timeout 120 "$CHROMIUM" "${flags[@]}" "$@" 2>>"$T/chromium.err"
}
# shot HTML PNG HEIGHT: a screenshot of the page, 1280 pixels wide.
shot() {
	rm -f "$2"
	chrome --screenshot="$2" --window-size="1280,$3" "file://$1" >/dev/null ||
		fail "chromium could not take a screenshot of $1: $(tail -n 3 "$T/chromium.err")"
	[ -s "$2" ] || fail "chromium wrote no screenshot of $1"
}
# inked PNG MIN_COLOURS: the screenshot is a page, not a blank.
inked() {
	local w h colours ink
	if ! command -v node >/dev/null 2>&1; then
		[ "$(stat -c %s "$1")" -gt 40000 ] || fail "$1 is too small to be a page"
		return
	fi
	read -r w h colours ink < <(node "$SMM_TOP_SRCDIR/tests/e2e/png-stats.js" "$1") ||
		fail "cannot decode $1"
	log "$(basename "$1"): ${w}x$h, $colours colours, $ink pixels not white"
	[ "$w" -eq 1280 ] && [ "$colours" -ge "$2" ] && [ "$ink" -gt $((w * h / 100)) ] ||
		fail "$1 looks blank: $colours colours, $ink of $((w * h)) pixels not white"
}
# count FILE PATTERN: how many times PATTERN occurs in FILE.
count() {
	grep -o -- "$2" "$1" | wc -l
}

chrome --dump-dom "file://$T/out.html" >"$T/dom.html" ||
	fail "chromium could not load the page: $(tail -n 3 "$T/chromium.err")"
for h in "At a glance" Calendar "Posts published per day" \
	"Engagement per campaign" "Top posts by engagement" Goals \
	"Audience growth" "Failed, held and skipped posts"; do
	grep -q "<h2>$h</h2>" "$T/dom.html" || fail "the page has no heading '$h'"
done
grep -q '<span class="v">5</span><span class="k">planned</span>' "$T/dom.html" &&
	grep -q '<span class="v">1</span><span class="k">went out</span>' "$T/dom.html" &&
	grep -q '<span class="v">1</span><span class="k">held</span>' "$T/dom.html" ||
	fail "the tiles do not say 5 planned, 1 went out, 1 held"
[ "$(count "$T/dom.html" '<td class="day">')" -eq "$((10#$ndays))" ] ||
	fail "the month grid has $(count "$T/dom.html" '<td class="day">') days, not $ndays"
[ "$(count "$T/dom.html" '<svg class="chart"')" -eq 1 ] &&
	[ "$(count "$T/dom.html" '<rect class="bar"')" -eq 1 ] ||
	fail "the published chart is not one chart with one bar"
grep -q "No engagement collected in this period" "$T/dom.html" ||
	fail "the empty engagement section does not say so"
grep -q 'bad &lt;request&gt;' "$T/dom.html" || fail "the 400's reason is not in the page"
shot "$T/out.html" "$T/out.png" 2400
inked "$T/out.png" 8

# ---- every section filled: the fixture, through the same renderer ------
"$RENDER_BIN" "$FIXTURE" "$T/full.html" || fail "report-render failed"
chrome --dump-dom "file://$T/full.html" >"$T/full-dom.html" ||
	fail "chromium could not load the fixture's page"
bars=$(jq '[.days[].by_channel[] | select(.published > 0)] | length' "$FIXTURE")
points=$(jq '(.engagement | length) + (.audience | length)' "$FIXTURE")
[ "$(count "$T/full-dom.html" '<svg class="chart"')" -eq 3 ] ||
	fail "the fixture's page has $(count "$T/full-dom.html" '<svg class="chart"') charts, not 3"
[ "$(count "$T/full-dom.html" '<rect class="bar"')" -eq "$bars" ] ||
	fail "the fixture's bar chart has $(count "$T/full-dom.html" '<rect class="bar"') bars, not $bars"
[ "$(count "$T/full-dom.html" '<circle class="pt"')" -eq "$points" ] ||
	fail "the fixture's line charts have $(count "$T/full-dom.html" '<circle class="pt"') points, not $points"
[ "$(count "$T/full-dom.html" 'class="fill')" -eq 4 ] ||
	fail "the fixture's goals do not have 4 progress bars"
# Chromium parsed no element out of the hostile text.
! grep -Eq '<script|<img|<i>autumn' "$T/full-dom.html" ||
	fail "the fixture's hostile text became markup in the browser"
mkdir -p "$SMM_TOP_BUILDDIR/tests/e2e"
shot "$T/full.html" "$SMM_TOP_BUILDDIR/tests/e2e/report.png" 3300
inked "$SMM_TOP_BUILDDIR/tests/e2e/report.png" 200
log "ok: $month's report counted and rendered; the fixture's screenshot is $SMM_TOP_BUILDDIR/tests/e2e/report.png"
