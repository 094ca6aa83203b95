#!/bin/busybox sh
# test-init.sh: /init of the Linux test initramfs: loads the virtio modules, exercises what the
# command line asks for (cloak.expect=blk,net,console), reports on ttyS0 and ends the VM.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
/guest-exit boot
echo "cloak-linux: userspace reached, kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "cloak-linux: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "cloak-linux: cpus $(grep -c ^processor /proc/cpuinfo)"

expect=$(sed -n 's/.*cloak\.expect=\([^ ]*\).*/\1/p' /proc/cmdline)
failed=0
fail() { echo "cloak-linux: FAIL $*"; failed=$((failed + 1)); }
pass() { echo "cloak-linux: PASS $*"; }

for m in $(cat /modules.order 2>/dev/null); do
	insmod "/modules/$m" 2>/dev/null || echo "cloak-linux: insmod $m failed"
done

want() { case ",$expect," in *",$1,"*) return 0 ;; esac; return 1; }

if want blk; then
	i=0; while ! [ -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if ! [ -b /dev/vda ]; then
		fail "blk: no /dev/vda"
	else
		# Sector 1 gets a pattern, flushed (fsync sends FLUSH), then read back past the page cache.
		pattern="cloak-linux blk $(cat /proc/sys/kernel/random/uuid)"
		printf '%s' "$pattern" | dd of=/dev/vda bs=512 seek=1 conv=fsync 2>/dev/null
		echo 3 >/proc/sys/vm/drop_caches
		back=$(dd if=/dev/vda bs=512 skip=1 count=1 iflag=direct 2>/dev/null | head -c ${#pattern})
		[ "$back" = "$pattern" ] && pass "blk: write, flush, read back: $pattern" || fail "blk: read back [$back]"
		# The driver sizes DISCARD and WRITE_ZEROES from the limits cloak offers; a discard then reaches it.
		dmax=$(cat /sys/block/vda/queue/discard_max_bytes 2>/dev/null)
		zmax=$(cat /sys/block/vda/queue/write_zeroes_max_bytes 2>/dev/null)
		if [ "${dmax:-0}" -gt 0 ] && [ "${zmax:-0}" -gt 0 ] && blkdiscard -o 1048576 -l 1048576 /dev/vda; then
			pass "blk: discard up to $dmax bytes, write zeroes up to $zmax bytes; a 1 MiB discard succeeded"
		else
			fail "blk: discard_max_bytes=$dmax write_zeroes_max_bytes=$zmax, or blkdiscard failed"
		fi
	fi
fi

if want net; then
	ip link set lo up
	if ! ip link show eth0 >/dev/null 2>&1; then
		fail "net: no eth0"
	else
		ip link set eth0 up
		ip addr add 10.0.2.15/24 dev eth0
		# The host side may still be setting up its end of the tap: try for up to 30 s.
		i=0
		until ping -c 1 -W 1 10.0.2.2 >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i + 1)); done
		if ping -c 5 -W 2 10.0.2.2 >/tmp/ping 2>&1; then
			pass "net: eth0 $(cat /sys/class/net/eth0/address) reached 10.0.2.2: $(grep -o '[0-9]* packets received' /tmp/ping)"
		else
			fail "net: ping 10.0.2.2: $(tail -2 /tmp/ping)"
		fi
	fi
fi

if want console; then
	i=0; while ! [ -c /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if [ -c /dev/hvc0 ]; then
		echo "cloak-linux: hello on hvc0" >/dev/hvc0 && pass "console: wrote to hvc0" || fail "console: write"
	else
		fail "console: no /dev/hvc0"
	fi
fi

if want pwrbtn; then
	# cloak's SIGTERM: the GED runs _EVT, the button driver sends KEY_POWER (type 1, code 116, value 1).
	for d in ACPI0013:00 PNP0C0C:00; do [ -e /sys/bus/acpi/devices/$d ] || fail "pwrbtn: no ACPI device $d"; done
	ev=$(sed -n '/Name="Power Button"/,/^$/s/.*Handlers=.*\(event[0-9]*\).*/\1/p' /proc/bus/input/devices | head -1)
	if [ -z "$ev" ] || ! [ -c "/dev/input/$ev" ]; then
		fail "pwrbtn: no input device for the power button"
	else
		# Open before saying so: evdev gives an event only to those who have it open.
		exec 3<"/dev/input/$ev"
		echo "cloak-linux: waiting for the power button on $ev"
		while :; do
			key=$(dd bs=24 count=1 <&3 2>/dev/null | od -An -tu2 -j16 -N6 | tr -s ' ')
			case "$key" in " 1 116 1"*) break ;; esac
		done
		exec 3<&-
		pass "pwrbtn: KEY_POWER from cloak's power button"
	fi
fi

if want iobench; then
	# cloak bench's Linux I/O figures: sequential O_DIRECT writes and reads of /dev/vda (16 MiB in 64 KiB
	# blocks) with dd, timed by /proc/uptime (10 ms steps), in firmware/bench/iobench.c's line format.
	dma=direct
	grep -q 'swiotlb=force' /proc/cmdline && dma=swiotlb-force
	i=0; while ! [ -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	for t in write read; do
		t0=$(cut -d' ' -f1 /proc/uptime)
		if [ $t = write ]; then
			dd if=/dev/zero of=/dev/vda bs=65536 count=256 oflag=direct conv=fsync 2>/dev/null
		else
			dd if=/dev/vda of=/dev/null bs=65536 count=256 iflag=direct 2>/dev/null
		fi || { fail "iobench: dd $t of /dev/vda"; continue; }
		t1=$(cut -d' ' -f1 /proc/uptime)
		awk -v t=$t -v dma=$dma -v t0="$t0" -v t1="$t1" 'BEGIN {
			s = t1 - t0; if (s <= 0) s = 0.005  # below the clock step: half a step
			printf "iobench: test=linux-seq-%s dma=%s qd=1 bs=65536 ops=256 bytes=16777216 ns=%.0f mbps=%.2f iops=%.0f\n",
				t, dma, s * 1e9, 16777216 / s / 1e6, 256 / s }'
	done
fi

if grep -q swiotlb /proc/cmdline; then
	echo "cloak-linux: swiotlb: $(dmesg | grep -i 'software io tlb' | head -1)"
fi
echo "cloak-linux: done, $failed failed"
sync
[ "$failed" -eq 0 ] && reboot -f
/guest-exit "$failed"
