#!/bin/sh
# run-on-kvm.sh: runs a test command in DIR on this host's /dev/kvm, or inside the nested QEMU host when
# there is none; with neither it prints one loud SKIPPED line and the TAP plan of a skip.
# usage: run-on-kvm.sh [--modules "M ..."] [--full-kvm] NAME DIR -- COMMAND [ARGS...]
#   COMMAND runs with DIR as its working directory, so it names DIR's files by relative paths.
#   --full-kvm: a software-assisted KVM (kvm_pvm, docs/test-machines.md) cannot run this test: go nested there too.
set -u
modules="" full=""
while [ $# -gt 0 ]; do
	case $1 in
	--modules) modules=$2; shift 2 ;;
	--full-kvm) full=1; shift ;;
	*) break ;;
	esac
done
name=$1 dir=$2
shift 3  # NAME DIR --
top=$(cd "$(dirname "$0")/.." && pwd)
nested=$top/tools/nested/run-nested.sh

# The test must not outlive whoever started this script (a suite's wrapper killed by meson's timeout, even
# by SIGKILL): setpriv --pdeathsig TERM sends it, or run-nested.sh, a TERM when our parent goes away, and
# run-nested.sh then stops its QEMU.
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] && ! { [ -n "$full" ] && [ -d /sys/module/kvm_pvm ]; }; then
	cd "$dir" && exec setpriv --pdeathsig TERM "$@"
fi
if [ -n "${CLOAK_NO_NESTED:-}" ] || ! [ -x "$nested" ] || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "######## SKIPPED: no usable /dev/kvm and no nested QEMU host (tools/nested); the $name tests did NOT run ########" >&2
	echo "1..0 # SKIP no usable /dev/kvm"
	exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped; status 77 would be an error for TAP
fi
echo "# no usable /dev/kvm here: running the $name tests inside a QEMU TCG guest with nested SVM"
exec setpriv --pdeathsig TERM "$nested" --timeout 1500 ${modules:+--modules "$modules"} --payload "$dir" -- "$@"
