#!/bin/sh
# kvm-suite.sh: boots the test guests on a real /dev/kvm and checks what they report (TAP).
# usage: kvm-suite.sh CLOAK GUEST_DIR   (GUEST_DIR holds the built tests/guests files)
set -u
CLOAK=$1
G=$2
. "$(dirname "$0")/lib.sh"

require_kvm "KVM integration"

run_cloak run
expect "demo guest boots with no arguments" 0 --out "cloak demo guest" --out "memory: 128 MiB in 1 range(s)" \
	--out "SEV: not active" --out "powering off"

tl=$tap_tmp/timeline.json
run_cloak run --timeline "$tl" --mem 64M
expect "demo guest with --timeline and --mem" 0 --out "memory: 64 MiB"
if [ -f "$tl" ] && grep -q '"process_start": 0' "$tl" && grep -q '"first_guest_exit": [0-9]' "$tl" &&
	grep -q '"boot_timer": [0-9]' "$tl" && grep -q '"guest_exit": [0-9]' "$tl" &&
	grep -q '"memory_map_and_lock": [0-9]' "$tl" && grep -q '"io": [0-9]' "$tl" &&
	grep -q '"exit_status": 0' "$tl" && grep -q '"vmm_rss": [1-9]' "$tl" &&
	grep -q '"guest_resident": [1-9]' "$tl" && grep -q '"teardown": [0-9]' "$tl" &&
	grep -q '"before_main_us": [0-9]' "$tl"; then
	ok "timeline JSON has every phase and the exit counts"
	sed 's/^/#   /' "$tl"
else
	not_ok "timeline JSON has every phase and the exit counts" "$(cat "$tl" 2>/dev/null)"
fi
ls "$tap_tmp"/timeline.json.* >/dev/null 2>&1 && not_ok "no temporary timeline file left" "found one" ||
	ok "no temporary timeline file left"

run_cloak run --kernel "$G/hello.elf"
expect "hello guest prints and powers off" 0 --out "hello from a cloak guest"

for code in 0 5 127; do
	run_cloak run --kernel "$G/exitcode.elf" --cmdline "code=$code"
	expect "exit port value $code gives status $(((code << 1 | 1) & 255))" $(((code << 1 | 1) & 255)) \
		--out "exiting with $code"
done

run_cloak run --kernel "$G/meminfo.elf" --mem 64M --cpus 2 --cmdline "a b=c"
expect "guest sees 64 MiB, 2 vCPUs and its command line" 0 --out "memory bytes: 67108864" \
	--out "memory ranges: 1" --out "cpus: 2" --out "bootargs: [a b=c]" --out "top of RAM writable"

run_cloak run --kernel "$G/meminfo.elf" --mem 3584M --no-pin
expect "memory above the 3 GiB hole is a second range" 0 --out "memory bytes: 3758096384" \
	--out "memory ranges: 2" --out "top of RAM writable"

run_cloak run --kernel "$G/cpuid.elf"
expect "CPUID: SVM and VMX hidden, KVM's paravirt leaf passed through" 0 --out "vmx=0" --out "svm=0" --out "hypervisor-bit=1" \
	--out "hypervisor=KVMKVMKVM" --out "apic-id=0"
if grep -q "cx16=1" "$out"; then
	run_cloak run --kernel "$G/cpuid.elf" --cpuid-clear cx16,0x1:ecx:26
	expect "--cpuid-clear hides CX16 and XSAVE from the guest" 0 --out "cx16=0" --out "xsave=0"
else
	ok "--cpuid-clear hides CX16 # SKIP this KVM never offers CX16"
fi

run_cloak run --kernel "$G/rtc.elf"
expect "CMOS clock: no update in progress, the host's year" 0 --out "rtc: update-in-progress=0" \
	--out "rtc: year $(date -u +%Y)"

run_cloak run --kernel "$G/kvmclock.elf"
expect "kvm-clock: offered in CPUID and filled in by KVM" 0 --out "kvmclock: version" --out "system time set"

run_cloak run --kernel "$G/hello.elf" --hugepages
if [ "$(cat /proc/sys/vm/nr_hugepages 2>/dev/null)" = 0 ]; then
	expect "--hugepages with none reserved says how to reserve them" 2 \
		--err "cannot map 128 MiB of guest memory in 2 MiB huge pages" --err "sysctl vm.nr_hugepages=64"
	if echo 64 >/proc/sys/vm/nr_hugepages 2>/dev/null && [ "$(cat /proc/sys/vm/nr_hugepages)" = 64 ]; then
		run_cloak run --kernel "$G/hello.elf" --hugepages
		expect "--hugepages boots from reserved huge pages" 0 --out "hello from a cloak guest"
		echo 0 >/proc/sys/vm/nr_hugepages
	else
		ok "--hugepages boots from reserved huge pages # SKIP cannot reserve huge pages here"
	fi
else
	expect "--hugepages boots from reserved huge pages" 0 --out "hello from a cloak guest"
fi

run_cloak run --kernel "$G/triplefault.elf"
expect "a triple fault ends the VM with status 4" 4 --out "about to fault" --err "triple-faulted"

printf 'hello there\n' | { out=$tap_tmp/out.echo err=$tap_tmp/err.echo; rc=0
	timeout -k 10 60 "$CLOAK" run --kernel "$G/echo.elf" >"$out" 2>"$err" || rc=$?
	echo "$rc" >"$tap_tmp/rc.echo"; }
out=$tap_tmp/out.echo err=$tap_tmp/err.echo rc=$(cat "$tap_tmp/rc.echo")
expect "serial input from a pipe reaches the guest" 0 --out "got: HELLO THERE"

run_cloak run --kernel "$G/pvh.elf" --cmdline "pvh-args"
expect "PVH entry: start info, command line, 5 memory map entries (the ACPI tables in their own)" 11 --out "pvh entry ok, cmdline: pvh-args"

printf 'ABCDEFGH' >"$tap_tmp/initrd"
run_cloak run --kernel "$G/pvh.elf" --initrd "$tap_tmp/initrd"
expect "PVH entry with an initrd as module" 43 --out "pvh entry ok"

# Images as they ship for other loaders, entered in 32-bit protected mode with paging and interrupts off.
run_cloak run --kernel "$G/pvh32.elf" --cmdline "pvh32-args" --initrd "$tap_tmp/initrd" --mem 64M
expect "ELF32 with a PVH note: start info, command line, memory map, initrd as module 0" 43 \
	--out "pvh32: start info version 1 at 0x8000" --out "cpu: protected=1 paging=0 interrupts=0" \
	--out "cmdline: [pvh32-args]" --out "memmap: 0x100000 +0x3f00000 type 1" --out "memmap: 0xe0000 +0x1000 type 3" --out "memmap: 5 entries" \
	--out "module 0: 8 bytes, starts with [ABCD]" --out "rsdp: 0xe0000"

run_cloak run --kernel "$G/mb1.elf" --cmdline "mb1 args=x" --initrd "$tap_tmp/initrd" --mem 64M
expect "Multiboot 1 (ELF): magic, memory, command line, memory map, initrd as module 0, loader name" 43 \
	--out "multiboot1: magic 0x2badb002, info at 0x10000, flags 0x24d" --out "cpu: protected=1 paging=0 interrupts=0" \
	--out "mem_lower: 636 KiB, mem_upper: 64512 KiB" --out "cmdline: [mb1 args=x]" --out "modules: 1" \
	--out "(page-aligned: yes), string [initrd], starts with [ABCD]" \
	--out "mmap: 0x0 +0x9f000 type 1" --out "mmap: 0x9f000 +0x41000 type 2" --out "mmap: 0xe0000 +0x1000 type 3" \
	--out "mmap: 0xe1000 +0x1f000 type 2" --out "mmap: 0x100000 +0x3f00000 type 1" --out "mmap: 5 entries" --out "boot loader: [cloak]"

run_cloak run --kernel "$G/mb1-aout.bin" --cmdline "flat"
expect "Multiboot 1 flat image, loaded and entered by the a.out-kludge address fields" 11 \
	--out "multiboot1: magic 0x2badb002, info at 0x10000, flags 0x245" --out "cmdline: [flat]" \
	--out "mem_upper: 130048 KiB" --out "mmap: 5 entries"

run_cloak run --kernel "$G/mb2.elf" --cmdline "mb2 args" --initrd "$tap_tmp/initrd" --mem 3584M --no-pin
expect "Multiboot 2: magic, command line, basic memory, memory map (above 4 GiB too), initrd as module, RSDP" 45 \
	--out "multiboot2: magic 0x36d76289, info at 0x10000" --out "cpu: protected=1 paging=0 interrupts=0" \
	--out "cmdline: [mb2 args]" --out "boot loader: [cloak]" \
	--out "module 0: 8 bytes at 0x" --out "(page-aligned: yes), string [initrd], starts with [ABCD]" \
	--out "mem_lower: 636 KiB, mem_upper: 3144704 KiB" --out "mmap: 0x100000000 +0x20000000 type 1" \
	--out "mmap: 6 entries" --out "acpi rsdp (old): [RSD PTR ]" --out "acpi rsdp (new): revision 2"

# The example guest a researcher copies (firmware/example): boot info, disk, console, exit; and under SEV.
printf 'EXAMPLE-DISK-0001' >"$tap_tmp/example.img"
truncate -s 1M "$tap_tmp/example.img"
run_cloak run --kernel "$G/example.elf" --cmdline "exit=5" --disk "$tap_tmp/example.img" \
	--console "file=$tap_tmp/example-hvc0.txt" --mem 64M
expect "example guest: boot info, virtio-blk, virtio-console, exit port" 11 \
	--out "example: 64 MiB in 1 range(s), 1 vCPU(s), command line [exit=5]" --out "example: SEV not active" \
	--out "disk: 2048 sectors, sector 0 starts with [EXAMPLE-DISK-000]" --out "console: wrote a line to hvc0"
grep -q "hello from the example guest on hvc0" "$tap_tmp/example-hvc0.txt" 2>/dev/null &&
	ok "example guest: its hvc0 line reached the console file" ||
	not_ok "example guest: its hvc0 line reached the console file" "$(cat "$tap_tmp/example-hvc0.txt" 2>/dev/null)"
run_cloak run --kernel "$G/example.elf" --disk "$tap_tmp/example.img" --sev --sev-backend sim
expect "example guest under simulated SEV: sees SEV, shares its DMA pool, reads the disk" 0 \
	--out "example: SEV active" --out "disk: 2048 sectors, sector 0 starts with [EXAMPLE-DISK-000]" \
	--out "example: powering off"

run_cloak run --kernel "$G/bzguest.bzImage" --cmdline "console=ttyS0 x=1" --initrd "$tap_tmp/initrd"
expect "bzImage 64-bit entry: zero page, command line, e820, initrd" 43 \
	--out "bzimage 64-bit entry ok, loader 0xff" --out "cmdline: [console=ttyS0 x=1]" \
	--out "e820: 0x100000 +0x7f00000 type 1" --out "e820: 0xe0000 +0x1000 type 3" --out "initrd: 8 bytes" --out "starts with [ABCD]"

run_cloak run --sev --sev-backend sim
expect "simulated SEV: the demo guest reads SEV on (CPUID and the trapped SEV_STATUS) and the C-bit" 0 \
	--out "SEV: active (SEV_STATUS bit 0 set), C-bit 39" --err "NOT encrypted"

# The simulator's memory rules (docs/sev-launch.md): a C=0 read of private memory is a violation.
run_cloak run --kernel "$G/sevpeek.elf" --mem 64M --sev --sev-backend sim --timeline "$tap_tmp/peek.json"
expect "simulated SEV, strict: a C=0 read of private memory stops the guest" 4 \
	--err "confidentiality violation at GPA 0x2000000, RIP 0x"
grep -q '"sev_violations": 1' "$tap_tmp/peek.json" && ok "the timeline counts the violation" ||
	not_ok "the timeline counts the violation" "$(grep sev_violations "$tap_tmp/peek.json")"
run_cloak run --kernel "$G/sevpeek.elf" --mem 64M --sev --sev-backend sim --cmdline share
expect "simulated SEV: the same read after KVM_HC_MAP_GPA_RANGE shared the page is allowed" 0 \
	--out "peek: read 0x5eb1ac at C=0"
export CLOAK_SIM_MEMORY=report
run_cloak run --kernel "$G/sevpeek.elf" --mem 64M --sev --sev-backend sim
expect "simulated SEV, CLOAK_SIM_MEMORY=report: the violation is reported and served" 0 \
	--out "peek: read 0x5eb1ac at C=0" --err "confidentiality violation at GPA 0x2000000"
unset CLOAK_SIM_MEMORY
run_cloak run --kernel "$G/hello.elf" --mem 64M --sev --sev-backend sim
expect "an honest host: the guest runtime's C-bit check passes" 0 --out "hello from a cloak guest"
# A host that lies about the C-bit in CPUID (the measured page tables use bit 39). Lies inside the
# guest's 40-bit width: under the simulator a PTE bit past it is reserved, so the probe would fault.
for lie in 38 36; do
	export CLOAK_SIM_CPUID_CBIT=$lie
	run_cloak run --kernel "$G/hello.elf" --mem 64M --sev --sev-backend sim
	expect "the guest runtime stops when CPUID's C-bit ($lie) is not the one its page tables carry" 121 \
		--out "cloak runtime: stopping: the C-bit CPUID reports (bit $lie)"
done
unset CLOAK_SIM_CPUID_CBIT

# A confidential Linux guest gets a swiotlb sized from its devices, unless it chose one.
truncate -s 1M "$tap_tmp/disk.img"
run_cloak run --kernel "$G/bzguest.bzImage" --cmdline "console=ttyS0" --sev --sev-backend sim \
	--disk "$tap_tmp/disk.img"
expect "confidential: swiotlb= sized from the devices (one disk: 16 MiB)" 11 --out "cmdline: [console=ttyS0 swiotlb=8192]" \
	--err "NOT encrypted"
run_cloak run --kernel "$G/bzguest.bzImage" --cmdline "console=ttyS0 swiotlb=force" --sev --sev-backend sim \
	--disk "$tap_tmp/disk.img"
expect "confidential: a swiotlb= the user gave is kept" 11 --out "cmdline: [console=ttyS0 swiotlb=force]"
run_cloak run --kernel "$G/bzguest.bzImage" --cmdline "console=ttyS0" --disk "$tap_tmp/disk.img"
expect "not confidential: the command line is left alone" 11 --out "cmdline: [console=ttyS0]"

# Privileges: while the guest waits for input, every thread of cloak (main, signal, device I/O, disk worker,
# COM1 reader, vCPU) holds no capability, has no_new_privs and its seccomp filter; --user switches all of them.
# confined_run NAME ARGS...: runs the echo guest with ARGS, checks every task while it waits, then lets it finish.
confined_run() {
	name=$1
	shift
	fifo=$tap_tmp/fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	"$CLOAK" run --kernel "$G/echo.elf" --disk "$tap_tmp/disk.img" --console "file=$tap_tmp/hvc0.txt" "$@" \
		<"$fifo" >"$tap_tmp/out.priv" 2>"$tap_tmp/err.priv" &
	pid=$!
	exec 9>"$fifo"
	i=0
	while ! grep -q ready "$tap_tmp/out.priv" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	tasks_confined $pid "${want_uid:-}" && confined=yes || confined=no
	names=$(cat /proc/$pid/task/*/comm 2>/dev/null | sort | tr '\n' ' ')
	lck=$(grep '^VmLck' /proc/$pid/status 2>/dev/null | awk '{print $2}')
	echo "done" >&9
	exec 9>&-
	rc=0
	wait $pid || rc=$?
	out=$tap_tmp/out.priv err=$tap_tmp/err.priv
	echo "# $name: threads: $names"
	if [ $confined = yes ] && [ "$tasks" -ge 6 ] && [ $rc = 0 ] && grep -q "got: DONE" "$out"; then
		ok "$name"
	else
		not_ok "$name" "$tasks threads; unconfined: $task_bad"
	fi
}
confined_run "every thread: no capabilities, no_new_privs, Seccomp 2 (disk, console, COM1 input)"
if [ -n "$lck" ] && [ "$lck" -ge 131072 ]; then
	ok "guest memory is locked by default (VmLck ${lck} kB)"
else
	not_ok "guest memory is locked by default" "VmLck=$lck kB"
fi
chmod 666 "$tap_tmp/disk.img"
want_uid=65534 confined_run "--user 65534: every thread runs as uid 65534, unprivileged and filtered" --user 65534:65534
want_uid=""

# cloak bench: two interleaved variants of the demo, summarised (no gnuplot in the nested host: it says so).
run_cloak bench --runs 2 --out "$tap_tmp/bench" -- --mem 64M
expect "cloak bench: plain and simulated SEV, interleaved, summarised" 0 --out "plain " --out "sev " \
	--out "results: $tap_tmp/bench/results.json" --err "cloak bench: 2 runs of 2 variants"
csv=$tap_tmp/bench/results.csv
if [ -f "$csv" ] && grep -q '^plain,wall_us,[0-9.]*,[0-9.]*,[0-9.]*,2$' "$csv" &&
	grep -q '^sev,phase.guest_exit,[1-9][0-9.]*,' "$csv" && grep -q '^plain,measured_bytes,0.0,' "$csv" &&
	grep -q '^sev,measured_bytes,[1-9][0-9]*\.0,' "$csv" && grep -q '^sev,phase.sev_launch_finish,' "$csv" &&
	grep -q '"runs_ok": 2' "$tap_tmp/bench/results.json" && ls "$tap_tmp/bench/runs/sev-002.json" >/dev/null; then
	ok "cloak bench: results.csv and results.json hold both variants' figures, SEV's measured bytes too"
else
	not_ok "cloak bench: results.csv and results.json hold both variants' figures, SEV's measured bytes too" \
		"$(cat "$csv" 2>/dev/null)"
fi

# The floor: cloak-floor (beside cloak) runs the guest that exits at once; every variant gets its ratio to it.
if [ -x "$(dirname "$CLOAK")/cloak-floor" ]; then
	run_cloak bench --runs 2 --out "$tap_tmp/floor" --variant pinned= --variant unpinned=--no-pin --compare-floor \
		-- --kernel "$G/null.elf" --mem 64M
	expect "cloak bench --compare-floor: cloak locked and not, the floor loader locked and not" 0 \
		--out "pinned " --out "unpinned " --out "floor " --out "floor-pinned " --out "x1.00 floor " \
		--out "x1.00 floor-pinned" --err "cloak bench: 2 runs of 4 variants"
	csv=$tap_tmp/floor/results.csv json=$tap_tmp/floor/results.json
	if grep -q '^floor,wall_us,[1-9][0-9.]*,[0-9.]*,[0-9.]*,2$' "$csv" &&
		grep -q '^floor-pinned,wall_us,[1-9][0-9.]*,[0-9.]*,[0-9.]*,2$' "$csv" &&
		grep -q '^unpinned,phase.guest_exit,[1-9]' "$csv" && grep -q '"wall_vs_floor": [0-9]' "$json" &&
		[ "$(grep -c '"wall_vs_floor_pinned": [0-9]' "$json")" = 4 ] && ! ls "$tap_tmp/floor/runs/floor-001.json" 2>/dev/null; then
		ok "cloak bench --compare-floor: the floor's wall times and every variant's ratios in results.csv and .json"
	else
		not_ok "cloak bench --compare-floor: the floor's wall times and every variant's ratios in results.csv and .json" \
			"$(cat "$csv" "$json" 2>/dev/null)"
	fi
else
	ok "cloak bench --compare-floor # SKIP no cloak-floor beside $CLOAK"
fi

# A plain run maps neither libcrypto nor libsystemd, nor libseccomp (its filters are compiled at build time);
# a SEV launch opens libcrypto (LD_DEBUG=files lists every library the loader maps, at start or by dlopen).
export LD_DEBUG=files
run_cloak run --kernel "$G/null.elf" --mem 64M
unset LD_DEBUG
if [ "$rc" = 1 ] && grep -q "file=libjansson.so.4" "$err" && ! grep -q "libcrypto\|libsystemd\|libseccomp" "$err"; then
	ok "a plain run loads neither libcrypto nor libsystemd nor libseccomp"
else
	not_ok "a plain run loads neither libcrypto nor libsystemd nor libseccomp" \
		"$(grep -o 'file=[^ ]*' "$err" | sort -u | tr '\n' ' ')"
fi
export LD_DEBUG=files
run_cloak run --sev --sev-backend sim --mem 64M
unset LD_DEBUG
if [ "$rc" = 0 ] && grep -q "file=libcrypto.so.3 .*dynamically loaded by" "$err" && ! grep -q "libsystemd" "$err"; then
	ok "a SEV launch opens libcrypto when it starts, and not libsystemd"
else
	not_ok "a SEV launch opens libcrypto when it starts, and not libsystemd" "$(grep -o 'file=[^ ]*' "$err" | sort -u | tr '\n' ' ')"
fi

# seccomp: a forbidden call stops cloak and names the call (CLOAK_TEST_SECCOMP_VIOLATE makes a thread open a
# socket once confined); with --seccomp log the same call runs and the guest finishes.
for role in disk vcpu; do
	CLOAK_TEST_SECCOMP_VIOLATE=$role run_cloak run --kernel "$G/hello.elf" --disk "$tap_tmp/disk.img"
	expect "seccomp: a socket() on the $role thread stops cloak (status 2) and names the call" 2 \
		--err "thread made system call socket (41), which its filter forbids"
done
CLOAK_TEST_SECCOMP_VIOLATE=disk run_cloak run --kernel "$G/hello.elf" --disk "$tap_tmp/disk.img" --seccomp log
expect "seccomp: --seccomp log lets the same call run" 0 --out "hello from a cloak guest"
tap_done

