#!/bin/bash
# Self-test of run-nested.sh: nested /dev/kvm runs a guest, exit statuses and output lines reach the host.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
runner=$here/../run-nested.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/nested-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/payload" "$work/cache"
# Sharing one cache dir lets the later runs reuse the first run's base initramfs.
export NESTED_WORKDIR=$work/cache

gcc -O2 -Wall -Wextra -o "$work/payload/kvm-probe" "$here/kvm-probe.c"

pass=0
fail=0
result() {
	if [ "$1" = ok ]; then
		pass=$((pass + 1))
		echo "ok: $2"
	else
		fail=$((fail + 1))
		echo "not ok: $2"
	fi
}

# 1. The KVM probe (a dynamically linked ELF: also checks the shared-library copying).
set +e
"$runner" --payload "$work/payload" -- ./kvm-probe | tee "$work/probe.out"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" = 0 ] && grep -q '^kvm-probe: OK$' "$work/probe.out"; then
	result ok "kvm-probe passes in the nested guest"
else
	result fail "kvm-probe passes in the nested guest (exit $rc)"
fi

# 2. Exit status propagation.
set +e
"$runner" --payload "$work/payload" -- sh -c 'exit 3'
rc=$?
set -e
if [ "$rc" = 3 ]; then
	result ok "exit status 3 propagates"
else
	result fail "exit status 3 propagates (got $rc)"
fi

# 3. Output lines, including quoting of arguments and a last line without newline.
set +e
out=$("$runner" --payload "$work/payload" -- sh -c 'echo "first line"; echo "it'"'"'s  spaced" >&2; printf last' 2>/dev/null)
rc=$?
set -e
expected=$(printf 'first line\nit'"'"'s  spaced\nlast')
if [ "$rc" = 0 ] && [ "$out" = "$expected" ]; then
	result ok "command output reaches host stdout"
else
	result fail "command output reaches host stdout (exit $rc, got: $(printf '%s' "$out" | od -c | head -5))"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
