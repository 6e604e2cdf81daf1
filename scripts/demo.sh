#!/usr/bin/env bash
# make demo: start the sandbox (a fake Exotel API on loopback), then validate
# and import samples/roster.csv against it and export the account, end to
# end, with no credentials.
# The sandbox allows 60 requests a minute and the import is told that rate,
# so the ~50 valid rows take about a minute.
set -euo pipefail

bin=${1:-bin/exoroster}
rate=${DEMO_RATE:-60/min}
work=$(mktemp -d)
sandbox_pid=""
cleanup() {
	if [ -n "$sandbox_pid" ]; then
		kill -INT "$sandbox_pid" 2>/dev/null || true
		wait "$sandbox_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

"$bin" sandbox --limit "$rate" --seed-users 12 --url-file "$work/url" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 100); do
	[ -s "$work/url" ] && break
	sleep 0.1
done
[ -s "$work/url" ] || { cat "$work/sandbox.log"; echo "demo: the sandbox did not start" >&2; exit 1; }

export EXOTEL_BASE_URL="$(cat "$work/url")"
export EXOTEL_API_KEY=sandbox EXOTEL_API_TOKEN=sandbox EXOTEL_ACCOUNT_SID=sandbox
echo "== sandbox running at $EXOTEL_BASE_URL (limit $rate)"

echo
echo "== exoroster validate samples/roster.csv"
"$bin" validate samples/roster.csv || true

results=demo-results.csv
# Each demo imports into a fresh sandbox, so the last demo's results describe
# an account that is gone: clear them, or import refuses to replace them.
rm -f "$results" "$results.state.json"
echo
echo "== exoroster import samples/roster.csv --rate $rate --results $results"
status=0
"$bin" import samples/roster.csv --rate "$rate" --results "$results" --progress-every 10s || status=$?
# 3 means "finished, but some rows are invalid": the sample has a few on purpose.
if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
	echo "demo: import failed with exit code $status" >&2
	exit "$status"
fi

echo
echo "== what happened to the invalid rows ($results)"
grep -E '^[0-9]+,invalid,' "$results" | cut -d, -f1,2,7- | cut -c1-150
# The sandbox's bucket refills one request a second, and the export is a
# new process that does not know the import's last request has just left:
# without a pause its first page draws a 429 (and the summary says the pace
# was cut), which is the fake being faithful, not the demo's point.
sleep 1
echo
echo "== exoroster export --out demo-export.csv --summary   (the nightly report)"
"$bin" export --out demo-export.csv --summary --rate "$rate" --progress-every 0

echo
echo "demo finished: see $results for every row and demo-export.csv for the account"
