#!/bin/sh
# virtio-suite.sh: the device test guests on a real /dev/kvm: blk, net (tap in its own netns), console, hostile (TAP).
# usage: virtio-suite.sh CLOAK GUEST_DIR   (GUEST_DIR holds blktest.elf, nettest.elf, constest.elf, hostile.elf,
#        nethostile.elf, iobench.elf)
set -u
CLOAK=$1
G=$2
. "${CLOAK_LIB_SH:-$(dirname "$0")/lib.sh}"

require_kvm "virtio integration"

crc() { busybox crc32 "$1" 2>/dev/null | cut -d' ' -f1 || python3 -c "import sys,zlib;print('%08x'%zlib.crc32(open(sys.argv[1],'rb').read()))" "$1"; }

# json_num FILE DEVICE KEY: a number from the device's row of a --timeline file.
json_num() {
	grep "\"name\": \"$2\"" "$1" | sed -n "s/.*\"$3\": \([0-9.]*\).*/\1/p"
}

# A disk whose first sector is known.
disk=$tap_tmp/disk.img
dd if=/dev/zero of="$disk" bs=1024 count=1024 2>/dev/null
printf 'cloak first sector' | dd of="$disk" conv=notrunc 2>/dev/null
dd if="$disk" of="$tap_tmp/s0" bs=512 count=1 2>/dev/null
want=$(crc "$tap_tmp/s0")

run_cloak run --disk "$disk"
expect "demo guest lists the disk and prints its first sector's crc32" 0 --out "virtio-blk" \
	--out "first sector crc32: $want" --out "host bridge"

run_cloak run --kernel "$G/blktest.elf" --disk "$disk"
expect "blk: write, flush and read back" 0 --out "write status 0" --out "flush status 0" --out "data matches" \
	--out "read past the end: status 1" --out "id \"disk.img\"" --out "offers DISCARD and WRITE_ZEROES: yes" \
	--out "write zeroes status 0, zeroed" --out "discard status 0"
if dd if="$disk" bs=512 skip=8 count=1 2>/dev/null | grep -q cloak-blk-roundtrip; then
	ok "blk: the image file on the host holds what the guest wrote"
else
	not_ok "blk: the image file on the host holds what the guest wrote" "sector 8 lacks the marker"
fi

before=$(crc "$disk")
run_cloak run --kernel "$G/blktest.elf" --disk "$disk,ro" --cmdline ro
expect "blk: a read-only disk refuses writes with IOERR and still reads" 0 \
	--out "write to a read-only disk: status 1" --out "read from it: status 0"
[ "$(crc "$disk")" = "$before" ] && ok "blk: the read-only image is unchanged" ||
	not_ok "blk: the read-only image is unchanged" "crc32 changed"

# Durability: once FLUSH completes, killing cloak outright loses nothing.
fresh=$tap_tmp/fresh.img
dd if=/dev/zero of="$fresh" bs=1024 count=1024 2>/dev/null
"$CLOAK" run --kernel "$G/blktest.elf" --disk "$fresh" --cmdline hang >"$tap_tmp/out.hang" 2>&1 &
pid=$!
i=0
while ! grep -q "flush status 0" "$tap_tmp/out.hang" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
if grep -q "flush status 0" "$tap_tmp/out.hang" && dd if="$fresh" bs=512 skip=8 count=1 2>/dev/null |
	grep -q cloak-blk-roundtrip; then
	ok "blk: data acknowledged by FLUSH survives kill -9 of cloak"
else
	not_ok "blk: data acknowledged by FLUSH survives kill -9 of cloak" "$(cat "$tap_tmp/out.hang")"
fi

# stop_with_term PID OUT: SIGTERM, then up to 20 s for cloak to exit; sets $rc (124: it did not).
stop_with_term() {
	kill -TERM "$1" 2>/dev/null
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		rc=124
	else
		rc=0
		wait "$1" || rc=$?
	fi
}

# A stray SIGUSR2 (cloak uses it internally) must not cost the SIGTERM that follows.
out=$tap_tmp/out.usr2 err=$tap_tmp/err.usr2
"$CLOAK" run --kernel "$G/blktest.elf" --disk "$fresh" --cmdline hang --shutdown-timeout 0 >"$out" 2>"$err" &
pid=$!
i=0
while ! grep -q "flush status 0" "$out" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill -USR2 $pid 2>/dev/null
sleep 0.5
stop_with_term $pid
expect "a stray SIGUSR2 does not disable SIGTERM: cloak stops with status 8" 8 --out "flush status 0" \
	--err "received signal 15"

# SIGTERM: cloak presses the power button; the guest (writing and flushing a counter in a loop) powers off,
# and the image holds the last value FLUSH acknowledged.
term=$tap_tmp/term.img
dd if=/dev/zero of="$term" bs=1024 count=1024 2>/dev/null
"$CLOAK" run --kernel "$G/blktest.elf" --disk "$term" --cmdline sigterm >"$tap_tmp/out.term" 2>"$tap_tmp/err.term" &
pid=$!
i=0
# (the output file may not exist yet when the loop starts: no count is 0)
while n=$(grep -c "blktest: flushed" "$tap_tmp/out.term" 2>/dev/null); [ "${n:-0}" -lt 20 ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM $pid
rc=0
wait $pid || rc=$?
out=$tap_tmp/out.term err=$tap_tmp/err.term
last=$(grep "blktest: flushed" "$out" | tail -1 | awk '{print $3}')
ondisk=$(dd if="$term" bs=512 skip=4 count=1 2>/dev/null | tr -d '\000' | sed 's/^cloak-counter 0*//')
echo "# SIGTERM after $last acknowledged flushes; the image holds $ondisk"
expect "SIGTERM: the power button asks the guest to power off; cloak exits 0" 0 \
	--err "SIGTERM: pressed the guest's power button; it has 10 s to power off" \
	--out "blktest: power button pressed after $last; powering off"
if [ -n "$last" ] && [ "$ondisk" = "$last" ]; then
	ok "SIGTERM: no acknowledged write is lost (the image holds the last flushed counter, $last)"
else
	not_ok "SIGTERM: no acknowledged write is lost" "last flushed $last, image holds '$ondisk'"
fi

# A guest that ignores the button is stopped after --shutdown-timeout, with status 8.
mkfifo "$tap_tmp/fifo.term"
"$CLOAK" run --kernel "$G/echo.elf" --disk "$term" --shutdown-timeout 1 <"$tap_tmp/fifo.term" \
	>"$tap_tmp/out.term2" 2>"$tap_tmp/err.term2" &
pid=$!
exec 9>"$tap_tmp/fifo.term"
i=0
while ! grep -q ready "$tap_tmp/out.term2" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid
rc=0
wait $pid || rc=$?
exec 9>&-
out=$tap_tmp/out.term2 err=$tap_tmp/err.term2
expect "SIGTERM: a guest that ignores the button is stopped after --shutdown-timeout (status 8)" 8 \
	--err "the guest did not power off within 1 s (--shutdown-timeout); stopped it"

tl=$tap_tmp/blk-timeline.json
run_cloak run --kernel "$G/blktest.elf" --disk "$disk" --cmdline burst --timeline "$tl"
expect "blk: a burst of 256 requests completes" 0 --out "burst of 256 requests done"
req=$(json_num "$tl" virtio-blk0 requests)
epr=$(json_num "$tl" virtio-blk0 exits_per_request)
ipr=$(json_num "$tl" virtio-blk0 interrupts_per_request)
echo "# virtio-blk burst: requests=$req exits_per_request=$epr interrupts_per_request=$ipr kicks=$(json_num "$tl" virtio-blk0 kicks)"
if [ "${req:-0}" -ge 256 ] && awk "BEGIN { exit !($epr < 0.1 && $ipr < 0.5) }"; then
	ok "blk: in steady state a request costs no exit to userspace (timeline)"
else
	not_ok "blk: in steady state a request costs no exit to userspace (timeline)" "$(cat "$tl")"
fi

run_cloak run --kernel "$G/constest.elf" --console "file=$tap_tmp/hvc0.txt"
expect "console: the guest writes to hvc0" 0 --out "wrote 3 lines to hvc0"
n=$(grep -c "hello from hvc0 over virtio-console" "$tap_tmp/hvc0.txt" 2>/dev/null)
[ "$n" = 3 ] && ok "console: hvc0 output lands in the file" || not_ok "console: hvc0 output lands in the file" "$n lines"
run_cloak run --kernel "$G/constest.elf" --console stdio
expect "console: hvc0 on stdio" 0 --out "hello from hvc0 over virtio-console"
# Input: 64 KiB through the console socket, 32 times what the guest's 8 receive buffers hold, each given back
# alone. A device that runs out of buffers must ask for the driver's next kick (EVENT_IDX avail_event), or
# input stalls for good after the first 8.
awk 'BEGIN { for (i = 0; i < 1024; i++) printf "%063d\n", i }' >"$tap_tmp/conin.txt"
sum=$(od -An -tu1 -v "$tap_tmp/conin.txt" | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s }')
"$G/conclient" "$tap_tmp/con.sock" "$tap_tmp/conin.txt" 2>"$tap_tmp/conclient.err" &
client=$!
run_cloak run --kernel "$G/constest.elf" --console "socket=$tap_tmp/con.sock" --cmdline read=65536
wait $client
expect "console: 64 KiB of socket input reach the guest through 8 receive buffers, none lost" 0 \
	--out "constest: read 65536 bytes from hvc0, byte sum $sum"

run_cloak run --kernel "$G/hostile.elf" --disk "$disk"
expect "hostile guest: bad chains fail alone, a garbage index asks for a reset, cloak carries on" 0 \
	--out "loop: used len 0" --out "wild address: used len 0" --out "wrapping buffer: used len 0" \
	--out "nested indirect: used len 0" --out "next past the queue: used len 0" \
	--out "good request after them: used len 513, status 0" --out "(NEEDS_RESET)" \
	--out "after reset a read gives status 0" --err "guest error" --err "loop"

run_cloak run --disk /nonexistent/disk.img
expect "a missing disk image is a clear error" 2 --err "--disk: /nonexistent/disk.img does not exist"

# Network: a tap in a namespace of our own, with the host end at 10.0.2.1.
if [ -c /dev/net/tun ] && command -v unshare >/dev/null; then
	cat >"$tap_tmp/net.sh" <<NET
set -e
if ip tuntap add dev ctap0 mode tap 2>/dev/null; then :; else tunctl -t ctap0 >/dev/null; fi
ip link set lo up
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null || true
ip addr add 10.0.2.1/24 dev ctap0
ip link set ctap0 up
exec "\$@"
NET
	out=$tap_tmp/out.net err=$tap_tmp/err.net rc=0
	timeout -k 10 120 unshare -n sh "$tap_tmp/net.sh" "$CLOAK" run --kernel "$G/nettest.elf" --net tap=ctap0,mac=52:54:00:12:34:56 \
		>"$out" 2>"$err" || rc=$?
	expect "net: ARP and ping with the host through the tap, frames both ways" 0 --out "mac 52:54:00:12:34:56" \
		--out "ARP reply from" --out "echo reply received"
	tl=$tap_tmp/net-timeline.json
	out=$tap_tmp/out.netb err=$tap_tmp/err.netb rc=0
	timeout -k 10 120 unshare -n sh "$tap_tmp/net.sh" "$CLOAK" run --kernel "$G/nettest.elf" --net tap=ctap0 \
		--cmdline burst --timeline "$tl" >"$out" 2>"$err" || rc=$?
	expect "net: a burst of 256 frames is sent" 0 --out "burst of 256 frames sent"
	epr=$(json_num "$tl" virtio-net0 exits_per_request)
	ipr=$(json_num "$tl" virtio-net0 interrupts_per_request)
	echo "# virtio-net burst: requests=$(json_num "$tl" virtio-net0 requests) exits_per_request=$epr interrupts_per_request=$ipr kicks=$(json_num "$tl" virtio-net0 kicks)"
	if awk "BEGIN { exit !(\"$epr\" != \"\" && $epr < 0.1 && $ipr < 0.5) }"; then
		ok "net: in steady state a frame costs no exit to userspace (timeline)"
	else
		not_ok "net: in steady state a frame costs no exit to userspace (timeline)" "$(cat "$tl")"
	fi

	# The RX wedge: a guest puts the receive used ring on its avail ring and mixes bad chains with good
	# buffers. cloak must refuse the rings, complete each bad chain once, stay responsive and stop on SIGTERM.
	out=$tap_tmp/out.nethostile err=$tap_tmp/err.nethostile
	unshare -n sh "$tap_tmp/net.sh" "$CLOAK" run --kernel "$G/nethostile.elf" --net tap=ctap0 --shutdown-timeout 0 \
		>"$out" 2>"$err" &
	pid=$!
	i=0
	while ! grep -q "waiting to be stopped" "$out" 2>/dev/null && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
	stop_with_term $pid
	expect "net: a hostile receive queue cannot wedge cloak; it stops on SIGTERM with status 8" 8 \
		--out "used ring on the avail ring: device status" --out "(NEEDS_RESET)" \
		--out "bad chain completed 1 time(s); small buffer 1, large buffer 1; num_buffers 2" \
		--err "rings overlap" --err "received signal 15"

	# Confinement with every kind of device thread: a disk, a NIC, a console and COM1 input. The script runs
	# inside the namespace, checks every task while the echo guest waits, then answers it.
	libsh=$(cd "$(dirname "${CLOAK_LIB_SH:-$0}")" && pwd)/lib.sh
	cat >"$tap_tmp/confined.sh" <<CONF
. "$libsh"
mkfifo "$tap_tmp/fifo.net"
"$CLOAK" run --kernel "$G/echo.elf" --disk "$disk" --net tap=ctap0 --console "file=$tap_tmp/hvc0.net" \\
	<"$tap_tmp/fifo.net" >"$tap_tmp/out.conf" 2>"$tap_tmp/err.conf" &
pid=\$!
exec 9>"$tap_tmp/fifo.net"
i=0
while ! grep -q ready "$tap_tmp/out.conf" 2>/dev/null && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
if tasks_confined \$pid; then echo "confined \$tasks"; else echo "unconfined \$tasks: \$task_bad"; fi
cat /proc/\$pid/task/*/comm 2>/dev/null | sort | tr '\\n' ' '; echo
echo done >&9
exec 9>&-
wait \$pid
echo "status \$?"
CONF
	out=$tap_tmp/out.confined err=$tap_tmp/err.conf rc=0
	timeout -k 10 120 unshare -n sh "$tap_tmp/net.sh" sh "$tap_tmp/confined.sh" >"$out" 2>&1 || rc=$?
	sed 's/^/# /' "$out"
	if grep -q "^confined [6-9]" "$out" && grep -q "status 0" "$out" && grep -q "got: DONE" "$tap_tmp/out.conf"; then
		ok "every thread (disk, NIC, console, COM1 input): no capabilities, no_new_privs, Seccomp 2"
	else
		not_ok "every thread (disk, NIC, console, COM1 input): no capabilities, no_new_privs, Seccomp 2" \
			"$(cat "$out")"
	fi

	# The I/O benchmark guest under cloak bench: one run each with its buffers in the DMA pool and bounced
	# through it; every test prints its line, and cloak bench turns each into metrics (figures, not timed).
	# Its receive test's peer, cloak-netpeer, runs on the tap's host end for as long as cloak does.
	cat >"$tap_tmp/peer.sh" <<PEER
"$G/cloak-netpeer" 9000 900 2>"$tap_tmp/peer.err" &
peer=\$!
rc=0
"\$@" || rc=\$?
kill \$peer
exit \$rc
PEER
	# rx_metrics CSV VARIANT: whether net-rx (MB/s, frames/s, gap) and net-rtt (round trips/s, latency) are in
	# results.csv with positive figures. (A round trip's MB/s rounds to 0.0 there: it is not asked for.)
	rx_metrics() {
		for m in net-rx.mbps net-rx.iops net-rx.p50_ns net-rtt.iops net-rtt.p50_ns net-rtt.p99_ns; do
			awk -F, -v m="io.$m" -v v="$2" '$1 == v && $2 == m && $3 > 0 { found = 1 } END { exit !found }' \
				"$1" || return 1
		done
	}
	dd if=/dev/zero of="$tap_tmp/io.img" bs=1M count=4 2>/dev/null
	out=$tap_tmp/out.io err=$tap_tmp/err.io rc=0
	timeout -k 10 600 unshare -n sh "$tap_tmp/net.sh" sh "$tap_tmp/peer.sh" "$CLOAK" bench --runs 1 --out "$tap_tmp/io" \
		--variant direct="--cmdline dma=direct,qd=4,mib=2,ops=64" --variant bounce="--cmdline dma=bounce,qd=4,mib=2,ops=64" \
		-- --kernel "$G/iobench.elf" --mem 64M --disk "$tap_tmp/io.img" --net tap=ctap0 >"$out" 2>"$err" || rc=$?
	expect "iobench under cloak bench: blk and net tests, direct and bounced" 0 --out "blk-seq-write" \
		--out "blk-rand-read" --out "net-tx" --out "net-rx" --out "net-rtt" --err "cloak bench: 1 runs of 2 variants"
	csv=$tap_tmp/io/results.csv n=0
	for v in direct bounce; do
		for t in blk-seq-write blk-seq-read blk-rand-write blk-rand-read net-tx net-rx net-rtt; do
			grep -q "^$v,io\.$t\.mbps,[0-9.]*,[0-9.]*,[0-9.]*,1$" "$csv" &&
				grep -q "^$v,io\.$t\.p99_ns,[1-9][0-9.]*," "$csv" &&
				grep -q "iobench: test=$t dma=$v qd=4 " "$tap_tmp/io/runs/$v-001.log" && n=$((n + 1))
		done
	done
	if [ $n = 14 ] && grep -q "iobench: done" "$tap_tmp/io/runs/bounce-001.log"; then
		ok "iobench: seven tests' lines per variant, each collected as io.TEST.* metrics in results.csv"
	else
		not_ok "iobench: seven tests' lines per variant, each collected as io.TEST.* metrics in results.csv" \
			"$n of 14; $(grep iobench "$tap_tmp/io/runs/"*.log)"
	fi
	grep -h "iobench: net-r" "$tap_tmp/io/runs/"*.log | sed 's/^/# /'
	if rx_metrics "$csv" direct && rx_metrics "$csv" bounce &&
		grep -q "iobench: net-rx frames=64 lost=0 " "$tap_tmp/io/runs/direct-001.log"; then
		ok "iobench: the peer's 64 frames all arrive; net-rx and net-rtt figures are positive, direct and bounced"
	else
		not_ok "iobench: the peer's 64 frames all arrive; net-rx and net-rtt figures are positive, direct and bounced" \
			"$(grep -h "net-r" "$csv" "$tap_tmp/io/runs/"*.log | tr '\n' ' '; tr '\n' ' ' <"$tap_tmp/peer.err")"
	fi
	# The picture: io.dat holds a row per test but the round trip (its MB/s says nothing), drawn to io.png.
	sed 's/^/# io.dat: /' "$tap_tmp/io/io.dat" 2>/dev/null
	if [ "$(grep -c '^"\(blk-\|net-tx\|net-rx\)' "$tap_tmp/io/io.dat" 2>/dev/null)" = 6 ] &&
		! grep -q net-rtt "$tap_tmp/io/io.dat" && grep -q 'set output "io.png"' "$tap_tmp/io/plot.gp"; then
		ok "cloak bench: io.dat has each I/O test's MB/s per variant, and plot.gp draws it to io.png and io.svg"
	else
		not_ok "cloak bench: io.dat has each I/O test's MB/s per variant, and plot.gp draws it to io.png and io.svg" \
			"$(cat "$tap_tmp/io/io.dat" "$tap_tmp/io/plot.gp" 2>&1 | tr '\n' ' ')"
	fi
	# Without the peer nothing arrives: the guest says so, leaves net-rx out and the same check fails.
	out=$tap_tmp/out.nopeer err=$tap_tmp/err.nopeer rc=0
	timeout -k 10 300 unshare -n sh "$tap_tmp/net.sh" "$CLOAK" bench --runs 1 --out "$tap_tmp/io-nopeer" \
		--variant direct="--cmdline net,dma=direct,ops=8" -- --kernel "$G/iobench.elf" --mem 64M --net tap=ctap0 \
		>"$out" 2>"$err" || rc=$?
	if grep -q "net-rx left out: no frames from the peer" "$tap_tmp/io-nopeer/runs/direct-001.log" &&
		! rx_metrics "$tap_tmp/io-nopeer/results.csv" direct; then
		ok "iobench without its peer: net-rx is left out, saying why, and the rx check fails"
	else
		not_ok "iobench without its peer: net-rx is left out, saying why, and the rx check fails" \
			"$(cat "$tap_tmp/io-nopeer/runs/direct-001.log" "$tap_tmp/io-nopeer/results.csv" 2>&1 | tr '\n' ' ')"
	fi
else
	echo "# SKIP net: no /dev/net/tun or unshare here"
fi

# The I/O benchmark guest with no device to measure says so.
run_cloak run --kernel "$G/iobench.elf" --mem 64M
expect "iobench without --disk or --net says what it needs" 7 --out "no virtio device to measure (give cloak --disk"

tap_done
