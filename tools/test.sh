#!/bin/sh
# test.sh: installs what is missing, builds cloak twice (plain and with ASan+UBSan), runs every test suite.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/tools/install-deps.sh"

status=0
for dir in build build-asan; do
	if ! [ -f "$dir/build.ninja" ]; then
		case $dir in
		build) meson setup "$dir" ;;
		build-asan) meson setup "$dir" -Db_sanitize=address,undefined -Db_lundef=false ;;
		esac
	fi
	ninja -C "$dir"
	echo "=== tests in $dir ==="
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
done

# One closing line over every TAP case of both builds, so a run's size is visible at a glance.
awk '
	/^ok [0-9]+/ { if ($0 ~ /# [Ss][Kk][Ii][Pp]/) s++; else p++ }
	/^not ok [0-9]+/ { if ($0 ~ /# [Tt][Oo][Dd][Oo]/) p++; else f++ }
	/^1\.\.0 # SKIP/ { s++ }
	END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }
' build/meson-logs/testlog.txt build-asan/meson-logs/testlog.txt
exit $status
