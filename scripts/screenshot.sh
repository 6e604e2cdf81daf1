#!/usr/bin/env bash
# make screenshot: build the HTML audit page from the two sample exports in
# samples/audit (a week apart) with the diff command, then render it with
# Debian's headless chromium at a desktop and a phone width, to look at.
# Writes bin/audit-sample.html, bin/audit-desktop.png and bin/audit-phone.png.
set -euo pipefail

bin=${1:-bin/exoroster}
out=${2:-bin}

if ! command -v chromium >/dev/null 2>&1; then
	echo "screenshot: installing Debian's chromium" >&2
	apt-get install -y chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Copied together, each report and its summary JSON keep their written-
# together times, so the reports' dates come from generated_at.
cp samples/audit/* "$work/"
mkdir -p "$out"
page="$(cd "$out" && pwd)/audit-sample.html"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
(cd "$work" && "$bin" diff last-week.csv today.csv --html "$page" >/dev/null)

shot() { # width height png
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--hide-scrollbars --user-data-dir="$(mktemp -d -p "$work")" \
		--window-size="$1,$2" --screenshot="$3" "file://$page" >/dev/null 2>&1
	echo "screenshot: $3 (${1}px wide)"
}
shot 1280 3800 "$out/audit-desktop.png"
shot 390 6000 "$out/audit-phone.png"
