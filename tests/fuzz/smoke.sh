#!/bin/sh
# smoke.sh: builds the fuzz targets and runs each briefly (its whole corpus, then a bounded number of new
# inputs), so that a change that breaks a target, or brings back a defect whose reproducer is in a corpus, fails.
# usage: smoke.sh OUTDIR
set -u
out=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v clang >/dev/null || ! command -v ld.lld >/dev/null; then
	echo "######## SKIPPED: no clang or lld (install clang, lld and libclang-rt-14-dev); the fuzz targets were NOT built ########" >&2
	exit 77
fi
sh "$here/build.sh" "$out" || exit 1
failed=
for t in $(grep -v "^#" "$here/targets"); do
	# New inputs go to the work directory, never into the corpus in the source tree.
	rm -rf "$out/smoke-$t"
	mkdir -p "$out/smoke-$t"
	if "$out/fuzz_$t" -runs=100000 -max_total_time=4 -seed=1 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$out/smoke-$t/" "$out/smoke-$t" "$here/corpus/$t" >"$out/smoke-$t.log" 2>&1; then
		echo "ok: fuzz_$t: $(grep -E '^(#[0-9]+|Done)' "$out/smoke-$t.log" | tail -n 1)"
	else
		failed="$failed $t"
		echo "FAILED: fuzz_$t (log $out/smoke-$t.log):"
		grep -E 'ERROR|SUMMARY|Test unit written|timeout' "$out/smoke-$t.log" | head -n 6
	fi
done
[ -z "$failed" ] || { echo "fuzz targets that failed:$failed"; exit 1; }
