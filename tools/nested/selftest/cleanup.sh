#!/bin/bash
# Test that run-nested.sh leaves no QEMU behind when it is killed: by SIGTERM (a caller's timeout), SIGINT,
# SIGHUP, SIGKILL (where no trap can run), and SIGKILL to its whole process group (what meson does to a
# test that overruns). TAP output; skipped without QEMU or a guest kernel.
set -u

here=$(cd "$(dirname "$0")" && pwd)
runner=$here/../run-nested.sh
signals=(TERM INT HUP KILL KILL-group)

skip() {
	echo "######## SKIPPED: $1; the run-nested.sh cleanup tests did NOT run ########" >&2
	echo "1..0 # SKIP $1"
	exit 0
}
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64 (Debian package qemu-system-x86)"
command -v busybox >/dev/null || skip "no busybox (Debian package busybox-static)"
if [ -z "${NESTED_KERNEL:-}" ] && ! compgen -G '/boot/vmlinuz-*-cloud-amd64' >/dev/null; then
	skip "no /boot/vmlinuz-*-cloud-amd64 (Debian package linux-image-cloud-amd64)"
fi

top=$(mktemp -d "${TMPDIR:-/tmp}/nested-cleanup.XXXXXX")
mkdir -p "$top/payload"
# Job control: a background job then keeps SIGINT (a non-interactive shell would make it ignore it) and
# runs in a process group of its own, as it does under a caller's `timeout`.
set -m

# PIDs of processes whose command line holds $1 (each run's work dir: QEMU's -initrd path names it,
# and so do the setpriv and timeout in front of it).
marked() {
	pgrep -f -- "$1" || true
}

pids_left=
n=0
echo "1..${#signals[@]}"
for sig in "${signals[@]}"; do
	n=$((n + 1))
	work=$top/run-$sig
	NESTED_WORKDIR=$work "$runner" --timeout 600 --payload "$top/payload" -- sleep 600 >"$top/$sig.out" 2>&1 &
	pid=$!
	# Wait until QEMU itself runs (not only the setpriv and timeout in front of it), at most 60 s.
	for ((i = 0; i < 600; i++)); do
		qemu=$(pgrep -f -- "^qemu-system-x86_64 .*$work/" | head -n 1)
		[ -z "$qemu" ] || break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$qemu" ]; then
		echo "not ok $n - SIG$sig: QEMU never started (run-nested.sh output: $(tail -n 3 "$top/$sig.out" | tr '\n' ' '))"
		kill -KILL "$pid" 2>/dev/null
		continue
	fi
	if [ "$sig" = KILL-group ]; then
		kill -KILL -- -"$pid"
	else
		kill -"$sig" "$pid"
	fi
	wait "$pid" 2>/dev/null
	# run-nested.sh gives QEMU 5 s after a TERM; after SIGKILL the parent-death signals act at once.
	for ((i = 0; i < 100; i++)); do
		[ -n "$(marked "$work/")" ] || break
		sleep 0.1
	done
	left=$(marked "$work/")
	if [ -z "$left" ]; then
		echo "ok $n - SIG$sig to run-nested.sh: its QEMU (pid $qemu) is gone"
	else
		echo "not ok $n - SIG$sig to run-nested.sh: still running: $(ps -o pid=,args= -p "${left//$'\n'/,}" | cut -c1-120 | tr '\n' ';')"
		pids_left="$pids_left $left"
	fi
done
# What a failed case left behind is ours to stop.
[ -z "$pids_left" ] || kill -KILL $pids_left 2>/dev/null
rm -rf "$top"
