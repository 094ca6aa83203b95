#!/bin/sh
# smoke.sh: builds the fuzz targets and runs each briefly, so a change that breaks them shows in the tests.
# usage: smoke.sh OUTDIR
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v clang >/dev/null; then
	echo "######## SKIPPED: no clang (install clang and libclang-rt-14-dev); the fuzz targets were NOT built ########" >&2
	exit 77
fi
sh "$here/build.sh" "$out"
for t in virtq pci; do
	"$out/fuzz_$t" -runs=200000 -seed=1 "$out/corpus-$t" 2>&1 | tail -1
done
