#!/bin/sh
# ratios.sh: one `cloak bench` run of the guest that exits at once under cloak (locked, unlocked, and
# unlocked without seccomp filters: what they cost), the floor loader (cloak-floor) and QEMU microvm, on
# this host's /dev/kvm or inside the nested QEMU host.
# usage: tools/bench/ratios.sh [RUNS] [BUILD_DIR] [BASELINE_BUILD_DIR]   prints the summary, then results.csv
# With a baseline build (another checkout's build directory), the same host runs both cloaks' benches
# alternately, two rounds of RUNS each, without QEMU: a before/after comparison within one run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-10}
build=${2:-$top/build}
baseline=${3:-}
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
for f in vmm/cloak tools/bench/cloak-floor firmware/bench/null.elf; do
	[ -e "$build/$f" ] || { echo "ratios.sh: no $build/$f; build first (meson setup build && ninja -C build)" >&2; exit 2; }
	cp "$build/$f" "$payload/"
done
if [ -n "$baseline" ]; then
	[ -x "$baseline/vmm/cloak" ] || { echo "ratios.sh: no $baseline/vmm/cloak; build the baseline first" >&2; exit 2; }
	cp "$baseline/vmm/cloak" "$payload/cloak-baseline"
fi
# QEMU microvm, when this host has it: the binary (run-nested.sh copies the libraries ldd names) and
# the firmware it loads from its data directory (qboot for microvm).
qemu=$(command -v qemu-system-x86_64 || true)
if [ -n "$baseline" ]; then
	compare_qemu=
elif [ -n "$qemu" ] && [ -r /usr/share/qemu/bios-microvm.bin ]; then
	mkdir -p "$payload/bin" "$payload/qemu-share"
	cp "$qemu" "$payload/bin/"
	cp /usr/share/qemu/bios-microvm.bin "$payload/qemu-share/"
	compare_qemu=--compare-qemu
else
	echo "ratios.sh: no qemu-system-x86_64 with bios-microvm.bin here; QEMU is left out" >&2
	compare_qemu=
fi
cat >"$payload/inner.sh" <<INNER
#!/bin/sh
# Runs where /dev/kvm is, in the payload directory.
set -eu
if [ -d qemu-share ] && [ ! -e /usr/share/qemu ]; then
	mkdir -p /usr/share && ln -s "\$PWD/qemu-share" /usr/share/qemu
fi
export PATH="\$PWD/bin:\$PATH"
echo "# host: \$(uname -r), \$(grep -c ^processor /proc/cpuinfo) CPU(s), \$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "# CLOAK bench --runs $runs --out results --variant pinned= --variant unpinned=--no-pin --variant unpinned-noseccomp='--no-pin --seccomp off' --compare-floor=./cloak-floor $compare_qemu -- --kernel null.elf --mem 64M"
rc=0
bench() {
	"./\$1" bench --runs $runs --out "\$2" --variant pinned= --variant unpinned=--no-pin \
		--variant unpinned-noseccomp="--no-pin --seccomp off" --compare-floor=./cloak-floor \
		$compare_qemu -- --kernel null.elf --mem 64M || rc=\$?
}
if [ -e cloak-baseline ]; then
	for round in 1 2; do
		bench cloak-baseline results-baseline-\$round
		bench cloak results-\$round
	done
	for r in results-baseline-1 results-1 results-baseline-2 results-2; do
		echo "# \$r"
		cat \$r/results.csv
	done
else
	bench cloak results
	cat results/results.csv
fi
exit \$rc
INNER
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	cd "$payload" && exec sh ./inner.sh
fi
echo "# no /dev/kvm here: inside the nested QEMU host (TCG, nested SVM); only ratios within this run mean anything" >&2
"$top/tools/nested/run-nested.sh" --timeout 1500 --payload "$payload" -- sh ./inner.sh
