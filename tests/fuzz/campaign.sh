#!/bin/sh
# campaign.sh: fuzzes each target in turn for N inputs (default 10^7) and prints a line of figures per target.
# usage: tests/fuzz/campaign.sh OUTDIR [N] [TARGET...]   (OUTDIR from build.sh; default every target)
#        FUZZ_MAX_SECS=S caps each target at S seconds (the line then shows how many inputs it reached).
# One target at a time, one job. A crash or hang ends the run, lands in OUTDIR/findings-TARGET/, and the
# target goes on with the inputs still to run
# (at most 5 such restarts). New inputs go to OUTDIR/work-TARGET; logs to OUTDIR/campaign-TARGET.N.log.
set -u
out=$1
want=${2:-10000000}
shift $(($# < 2 ? $# : 2))
here=$(cd "$(dirname "$0")" && pwd)
targets=${*:-$(grep -v "^#" "$here/targets")}
for t in $targets; do
	mkdir -p "$out/work-$t" "$out/findings-$t"
	done_runs=0 round=0 secs=0
	while [ "$done_runs" -lt "$want" ] && [ "$round" -lt 6 ] &&
		{ [ "${FUZZ_MAX_SECS:-0}" = 0 ] || [ "$secs" -lt "$FUZZ_MAX_SECS" ]; }; do
		round=$((round + 1))
		log=$out/campaign-$t.$round.log
		start=$(date +%s)
		"$out/fuzz_$t" -runs=$((want - done_runs)) -max_total_time=$((${FUZZ_MAX_SECS:-0} ? ${FUZZ_MAX_SECS:-0} - secs : 0)) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix="$out/findings-$t/" "$out/work-$t" "$here/corpus/$t" >"$log" 2>&1
		rc=$?
		secs=$((secs + $(date +%s) - start))
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		[ -n "$n" ] || n=$(grep -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
		done_runs=$((done_runs + ${n:-0}))
		[ "$rc" = 0 ] || echo "$t: round $round ended with status $rc after ${n:-0} inputs: $(grep -m1 -E 'ERROR|Test unit written' "$log")"
	done
	echo "$t: $done_runs inputs in $secs s ($round rounds); cov $(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2), corpus $(ls "$out/work-$t" | wc -l) new inputs; findings: $(ls "$out/findings-$t" | wc -l)"
done
