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

# The closing lines: counts over every TAP case of both builds, then each test that did not pass with
# its last lines, so the end of a CI log names a failure.
python3 "$top/tools/test-summary.py" build build-asan || status=1
exit $status
