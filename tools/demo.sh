#!/bin/sh
# demo.sh: installs what is missing, builds cloak, and boots the demo guest built into it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/tools/install-deps.sh"
[ -f build/build.ninja ] || meson setup build
ninja -C build
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec build/vmm/cloak run "$@"
fi
# No KVM on this host: boot the demo inside a QEMU guest with nested virtualization instead.
echo "demo.sh: no usable /dev/kvm here; running cloak inside a nested QEMU host (tools/nested)" >&2
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
cp build/vmm/cloak "$payload/"
"$top/tools/nested/run-nested.sh" --payload "$payload" -- /payload/cloak run "$@"
