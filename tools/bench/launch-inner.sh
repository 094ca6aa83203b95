#!/bin/sh
# launch-inner.sh: boots the demo guest N times with --timeline and prints the median of each phase.
# usage: launch-inner.sh CLOAK N [cloak run options...]
set -eu
CLOAK=$1 N=$2
shift 2
dir=$(mktemp -d)
i=0
while [ $i -lt "$N" ]; do
	"$CLOAK" run --timeline "$dir/t$i.json" "$@" >/dev/null
	i=$((i + 1))
done
# One "key value" pair per line from every timeline, then the median per key.
for f in "$dir"/t*.json; do
	sed -n 's/^ *"\([a-z_]*\)": \([0-9][0-9]*\),\{0,1\}$/\1 \2/p' "$f"
done | sort -k1,1 -k2,2n | awk '
	{ v[$1, ++n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
	END {
		for (j = 1; j <= k; j++) {
			key = order[j]; c = n[key]
			printf "%-22s median %10d  min %10d  max %10d  (n=%d)\n", key,
				v[key, int((c + 1) / 2)], v[key, 1], v[key, c], c
		}
	}'
rm -rf "$dir"
