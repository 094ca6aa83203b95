#!/bin/sh
# launch.sh: launch-latency and memory benchmark: N boots of the demo guest, median per timeline phase.
# usage: tools/bench/launch.sh [N] [cloak run options...]   (times in us, memory in KiB)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-20}
[ $# -gt 0 ] && shift
cloak=$top/build/vmm/cloak
[ -x "$cloak" ] || { echo "launch.sh: build cloak first (./tools/demo.sh or meson setup build && ninja -C build)" >&2; exit 2; }
if [ -c /dev/kvm ] && [ -r /dev/kvm ]; then
	echo "# $N boots on this host's /dev/kvm"
	exec sh "$top/tools/bench/launch-inner.sh" "$cloak" "$N" "$@"
fi
echo "# $N boots inside the nested QEMU host (no /dev/kvm here): every guest instruction is emulated by TCG"
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
cp "$cloak" "$top/tools/bench/launch-inner.sh" "$payload/"
"$top/tools/nested/run-nested.sh" --payload "$payload" -- sh /payload/launch-inner.sh /payload/cloak "$N" "$@"
