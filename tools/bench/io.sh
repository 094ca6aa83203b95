#!/bin/sh
# io.sh: one `cloak bench` run of the I/O benchmark guest (firmware/bench/iobench.c) on a disk image and a
# tap, with its buffers in the shared DMA pool (direct) and bounced through it from private memory
# (bounce), plain and under simulated SEV; then one of Debian's cloud kernel with the test initramfs
# (tools/linux) reading and writing the disk with and without swiotlb=force. On this host's /dev/kvm or
# inside the nested QEMU host.
# usage: tools/bench/io.sh [RUNS] [BUILD_DIR] [GUEST_ARGS]    prints the summaries, then results.csv
#   GUEST_ARGS: iobench's own, comma separated (default qd=8,mib=16,ops=1024; see iobench.c)
# Environment: IO_LINUX=0 leaves the Linux run out.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-5}
build=${2:-$top/build}
args=${3:-qd=8,mib=16,ops=1024}
payload=$(mktemp -d)
trap 'rm -rf "$payload"' EXIT
for f in vmm/cloak firmware/bench/iobench.elf tools/bench/cloak-netpeer; do
	[ -e "$build/$f" ] || { echo "io.sh: no $build/$f; build first (meson setup build && ninja -C build)" >&2; exit 2; }
	cp "$build/$f" "$payload/"
done
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
linux=
if [ "${IO_LINUX:-1}" != 0 ] && [ -n "$kernel" ]; then
	"$top/tools/linux/mk-test-initramfs.sh" "$payload/test-initrd.gz" "${kernel##*/vmlinuz-}"
	cp "$kernel" "$payload/bzImage"
	linux=1
fi
cat >"$payload/inner.sh" <<INNER
#!/bin/sh
# Runs where /dev/kvm is, in the payload directory: a 64 MiB disk image and a tap whose host end,
# 10.0.2.1, is the peer the guest sends to, receives from (cloak-netpeer) and pings, in a network
# namespace of its own.
set -eu
dd if=/dev/zero of=disk.img bs=1M count=64 2>/dev/null
cat >net.sh <<'NET'
set -e
if ip tuntap add dev ctap0 mode tap 2>/dev/null; then :; else tunctl -t ctap0 >/dev/null; fi
ip link set lo up
ip addr add 10.0.2.1/24 dev ctap0
ip link set ctap0 up
# The peer of iobench's net-rx test (tools/bench/netpeer.c), for as long as the command runs.
./cloak-netpeer 9000 3600 2>>netpeer.log &
peer=\$!
rc=0
"\$@" || rc=\$?
kill \$peer
exit \$rc
NET
echo "# host: \$(uname -r), \$(grep -c ^processor /proc/cpuinfo) CPU(s), \$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
set -- bench --runs $runs --out io --variant direct=--cmdline\\ dma=direct,$args \\
	--variant bounce=--cmdline\\ dma=bounce,$args \\
	--variant sev-bounce=--sev\\ --sev-backend\\ sim\\ --cmdline\\ dma=bounce,$args \\
	-- --kernel iobench.elf --mem 128M --disk disk.img --net tap=ctap0
echo "# cloak \$*"
rc=0
unshare -n sh net.sh ./cloak "\$@" || rc=\$?
cat io/results.csv
[ \$rc = 0 ] || tail -n 5 io/runs/*-001.log
grep -h "iobench: net-r" io/runs/*.log | sort | uniq -c | sort -rn | head -n 6
if [ -n "$linux" ]; then
	base="console=ttyS0 reboot=k panic=-1 quiet cloak.expect=iobench"
	set -- bench --runs $runs --out linux-io --variant direct= --variant swiotlb-force="--cmdline '\$base swiotlb=force'" \\
		-- --kernel bzImage --initrd test-initrd.gz --mem 512M --disk disk.img --cmdline "\$base"
	echo "# cloak \$*"
	./cloak "\$@" || rc=\$?
	grep io linux-io/results.csv
	[ \$rc = 0 ] || tail -n 5 linux-io/runs/*-001.log
fi
exit \$rc
INNER
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	cd "$payload" && exec sh ./inner.sh
fi
echo "# no /dev/kvm here: inside the nested QEMU host (TCG, nested SVM); only ratios within this run mean anything" >&2
"$top/tools/nested/run-nested.sh" --timeout 1500 --modules tun --payload "$payload" -- sh ./inner.sh
