#!/usr/bin/env bash
# Measures validation from outside, as a user runs it: `validate` on a
# generated 1,000,000-row roster (rows a second, peak RSS), and
# `import --dry-run` against `validate` on 100,000 rows. Prints a markdown
# table. Usage: scripts/bench-validate.sh bin/exoroster [rows]
set -euo pipefail

bin=${1:?usage: $0 path/to/exoroster [rows]}
rows=${2:-1000000}
dir=${BENCH_DIR:-bin/bench}
mkdir -p "$dir"

if ! /usr/bin/time -v true >/dev/null 2>&1; then
	echo "bench-validate: needs GNU time (/usr/bin/time -v) for peak RSS; apt-get install time" >&2
	exit 1
fi

big=$dir/roster-$rows.csv
small=$dir/roster-100000.csv
[ -s "$big" ] || go run ./scripts/genroster -rows "$rows" >"$big"
[ -s "$small" ] || go run ./scripts/genroster -rows 100000 >"$small"

# measure CMD...: runs it under GNU time, ignores exit code 3 (rows
# invalid, which the generated rosters have on purpose), and sets
# secs, rss_mb and cpu_secs.
measure() {
	local out=$dir/time.txt code=0
	/usr/bin/time -v "$@" >/dev/null 2>"$out" || code=$?
	if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
		cat "$out" >&2
		echo "bench-validate: $* exited $code" >&2
		exit 1
	fi
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		print s }' "$out")
	rss_mb=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$out")
	cpu_secs=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$out")
}

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

echo "| run | wall | rows/s | CPU (user+sys) | peak RSS |"
echo "|---|---|---|---|---|"
measure "$bin" validate "$big"
echo "| validate, $rows rows | ${secs} s | $(rate "$rows" "$secs") | ${cpu_secs} s | ${rss_mb} MB |"
measure "$bin" validate "$small"
v_secs=$secs
echo "| validate, 100000 rows | ${secs} s | $(rate 100000 "$secs") | ${cpu_secs} s | ${rss_mb} MB |"
rm -f "$dir/dry-run.csv" "$dir/dry-run.csv.state.json"
measure "$bin" import "$small" --dry-run --progress-every 0 --results "$dir/dry-run.csv"
echo "| import --dry-run, 100000 rows | ${secs} s | $(rate 100000 "$secs") | ${cpu_secs} s | ${rss_mb} MB |"
echo
echo "import --dry-run ÷ validate on 100,000 rows: $(awk -v a="$secs" -v b="$v_secs" 'BEGIN { printf "%.2f", a / b }')×"
echo "($(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown))"
