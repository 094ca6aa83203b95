#!/bin/sh
# cli-suite.sh: every bad input to `cloak run` gets a clear message and exit status 2, no KVM needed (TAP).
# usage: cli-suite.sh CLOAK GUEST_DIR
set -u
CLOAK=$1
G=$2
. "$(dirname "$0")/lib.sh"
T=$tap_tmp

bad() {  # bad NAME TEXT ARGS...: cloak must exit 2 and say TEXT on stderr
	name=$1 text=$2
	shift 2
	run_cloak "$@"
	expect "$name" 2 --err "$text"
}

bad "missing kernel" "kernel file $T/nope does not exist" run --kernel "$T/nope"
bad "kernel is a directory" "is not a regular file" run --kernel "$T"
: >"$T/empty"
bad "empty kernel" "is empty" run --kernel "$T/empty"
printf 'just some text, not a kernel at all, long enough to have a header\n%.0s' 1 2 3 4 5 6 7 8 9 10 >"$T/text"
bad "neither ELF, Multiboot nor bzImage" "is neither an ELF executable, a Multiboot kernel nor a Linux bzImage" run --kernel "$T/text"
head -c 100 "$G/hello.elf" >"$T/trunc1"
bad "ELF truncated inside its program headers" "program headers lie outside the file" run --kernel "$T/trunc1"
head -c 1000 "$G/hello.elf" >"$T/trunc2"
bad "ELF truncated inside a segment" "is truncated: segment 0" run --kernel "$T/trunc2"

# Patch the first program header's p_paddr (offset 64 + 24), little-endian.
patch_paddr() {  # patch_paddr OUT BYTES(octal escapes)
	cp "$G/hello.elf" "$1"
	printf "$2" | dd of="$1" bs=1 seek=88 conv=notrunc 2>/dev/null
}
patch_paddr "$T/high.elf" '\000\000\000\100\000\000\000\000'
bad "ELF segment outside guest memory" "lies outside guest memory (16 MiB); give --mem of at least" \
	run --kernel "$T/high.elf" --mem 16M
patch_paddr "$T/low.elf" '\000\200\000\000\000\000\000\000'
bad "ELF segment below 1 MiB" "lies below 0x100000" run --kernel "$T/low.elf"
cp "$G/hello.elf" "$T/elf32"
printf '\001' | dd of="$T/elf32" bs=1 seek=4 conv=notrunc 2>/dev/null
bad "32-bit ELF" "is a 32-bit ELF" run --kernel "$T/elf32"

# Images for other loaders, malformed: each refusal names what is wrong.
le32() {  # le32 VALUE: four bytes, little-endian
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"
}
patch32() {  # patch32 FILE OFFSET VALUE
	le32 "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
find32() {  # find32 FILE HEX: file offset of the first 4-byte-aligned word HEX (8 hex digits)
	od -An -v -tx4 -w4 "$1" | grep -n -m1 "$2" | cut -d: -f1 | { read -r l && echo $(((l - 1) * 4)); }
}
bad "32-bit ELF that declares no way in" "is a 32-bit ELF with neither a Xen PVH note nor a Multiboot header" \
	run --kernel "$G/plain32.elf"
mb1=$(find32 "$G/mb1.elf" 1badb002)
cp "$G/mb1.elf" "$T/mb1sum.elf"
patch32 "$T/mb1sum.elf" $((mb1 + 8)) 0x12345678
bad "Multiboot 1: bad checksum" "has a Multiboot header at offset $(printf 0x%x "$mb1") with a bad checksum" \
	run --kernel "$T/mb1sum.elf"
{ head -c 8192 /dev/zero; cat "$G/mb1-aout.bin"; } >"$T/mb1past"
bad "Multiboot 1: header past the first 8 KiB" "has a Multiboot header at offset 0x2000, past the first 8 KiB" \
	run --kernel "$T/mb1past"
cp "$G/mb1.elf" "$T/mb1video.elf"
patch32 "$T/mb1video.elf" $((mb1 + 4)) 7
patch32 "$T/mb1video.elf" $((mb1 + 8)) $(((-(0x1badb002 + 7)) & 0xffffffff))
bad "Multiboot 1: a video mode is refused" "asks for a video mode (flags bit 2" run --kernel "$T/mb1video.elf"
cp "$G/mb1.elf" "$T/mb1flags.elf"
patch32 "$T/mb1flags.elf" $((mb1 + 4)) 0x13
patch32 "$T/mb1flags.elf" $((mb1 + 8)) $(((-(0x1badb002 + 0x13)) & 0xffffffff))
bad "Multiboot 1: unknown required flags are refused" "unsupported flags 0x13 (required bits 0x10" \
	run --kernel "$T/mb1flags.elf"
cp "$G/mb1.elf" "$T/mb1high.elf"
patch32 "$T/mb1high.elf" 64 0x40000000  # ELF32: e_phoff 52, p_paddr at +12
bad "Multiboot 1 (ELF): segment outside guest memory" "segment at 0x40000000-" run --kernel "$T/mb1high.elf" --mem 16M
expect "Multiboot 1 (ELF): segment outside guest memory says how much to give" 2 --err "lies outside guest memory (16 MiB)"
cp "$G/mb1-aout.bin" "$T/aout-end"
patch32 "$T/aout-end" 20 0x200000
bad "Multiboot 1 a.out kludge: load_end_addr past the file" "is truncated: its Multiboot load_end_addr 0x200000" \
	run --kernel "$T/aout-end"
cp "$G/mb1-aout.bin" "$T/aout-high"
patch32 "$T/aout-high" 12 0x7ff00000
patch32 "$T/aout-high" 16 0x7ff00000
patch32 "$T/aout-high" 20 0
patch32 "$T/aout-high" 24 0
bad "Multiboot 1 a.out kludge: load address outside guest memory" "load it at 0x7ff00000-0x7ff" \
	run --kernel "$T/aout-high"
mb2=$(find32 "$G/mb2.elf" e85250d6)
cp "$G/mb2.elf" "$T/mb2sum.elf"
patch32 "$T/mb2sum.elf" $((mb2 + 12)) 0x12345678
bad "Multiboot 2: bad checksum" "has a Multiboot 2 header at offset $(printf 0x%x "$mb2") with a bad checksum" \
	run --kernel "$T/mb2sum.elf"
xen=$(find32 "$G/pvh32.elf" 006e6558)  # "Xen\0": the PVH entry follows it
cp "$G/pvh32.elf" "$T/pvhgap.elf"
patch32 "$T/pvhgap.elf" $((xen + 4)) 0x300000
bad "PVH entry outside every loaded segment" "PVH entry 0x300000 is not inside any loaded segment" \
	run --kernel "$T/pvhgap.elf"

bad "bzImage protocol too old" "uses boot protocol 2.11, too old for the 64-bit entry" \
	run --kernel "$G/bzguest-old.bzImage"
bad "bzImage without a 64-bit entry" "has no 64-bit entry point" run --kernel "$G/bzguest-32.bzImage"
cp "$G/bzguest.bzImage" "$T/bzbig"
printf '\000\000\000\100' | dd of="$T/bzbig" bs=1 seek=$((0x260)) conv=notrunc 2>/dev/null
bad "bzImage needing more memory than given" "to decompress and run, more than 128 MiB; give --mem of at least" \
	run --kernel "$T/bzbig"
head -c 700 "$G/bzguest.bzImage" >"$T/bztrunc"
bad "bzImage truncated" "is truncated" run --kernel "$T/bztrunc"

dd if=/dev/zero of="$T/bigrd" bs=1M count=20 2>/dev/null
bad "initrd that does not fit" "does not fit in guest memory (16 MiB)" \
	run --kernel "$G/hello.elf" --initrd "$T/bigrd" --mem 16M
bad "missing initrd" "initrd file $T/nope does not exist" run --kernel "$G/hello.elf" --initrd "$T/nope"
bad "initrd without kernel" "--initrd needs --kernel" run --initrd "$T/bigrd"

bad "memory below the minimum" "--mem: 8M is out of range; give 16 MiB to 1024 GiB" run --mem 8M
bad "memory above the maximum" "--mem: 2T is out of range" run --mem 2T
bad "memory not a size" "--mem: 'lots' is not a size" run --mem lots
bad "memory not a multiple of 2 MiB" "is not a multiple of 2 MiB; round it, for example to 20M" run --mem 19M
bad "zero vCPUs" "--cpus: 0 vCPUs cannot run anything" run --cpus 0
bad "too many vCPUs" "--cpus: 65 vCPUs are more than cloak supports; give 1 to 64" run --cpus 65
bad "vCPUs not a number" "--cpus: 'two' is not a number" run --cpus two
bad "unknown CPUID feature" "--cpuid-clear: 'warp' is neither a known feature name" run --cpuid-clear warp
bad "unknown option" "unknown option --frobnicate" run --frobnicate
bad "option without its value" "--kernel needs a value" run --kernel
bad "unknown short option in a cluster names the letter" "unknown option -x;" run -xh
bad "MAC with a negative byte" "'02:-1:00:00:00:00' is not a MAC address" run --net tap=t0,mac=02:-1:00:00:00:00
bad "MAC with a space" "'02: 1:00:00:00:00' is not a MAC address" run --net "tap=t0,mac=02: 1:00:00:00:00"
bad "--disk without a path names the option and the form" "--disk: no path in ',ro'; write --disk PATH or --disk PATH,ro" \
	run --disk ,ro
bad "--disk with an unknown flag" "--disk: unknown flag 'rw' in 'a.img,rw'; the only flag is ro" run --disk a.img,rw
bad "--net without a tap" "--net: no tap device named in 'mac=52:54:00:12:34:56'" run --net mac=52:54:00:12:34:56
bad "--net given twice" "--net: given twice; cloak attaches one network device" run --net tap=a --net tap=b
bad "--console that is no console" "--console: 'tcp=1' is not a console; give stdio, file=PATH or socket=PATH" \
	run --console tcp=1
bad "nine disks" "--disk: more than 8 disks; attach at most 8" \
	run --disk 1 --disk 2 --disk 3 --disk 4 --disk 5 --disk 6 --disk 7 --disk 8 --disk 9
bad "config print checks the device options too" "--net: unknown setting 'speed=1'" config print --net tap=t,speed=1
bad "CPUID bit with a space" "'1:eax: 5' is neither" run --cpuid-clear "1:eax: 5"
bad "stray argument" "unexpected argument 'extra'" run extra
bad "unknown command" "unknown command 'fly'" fly
long=$(head -c 5000 /dev/zero | tr '\0' x)
bad "command line too long" "--cmdline: 5000 bytes is longer than the 4095" run --cmdline "$long"

bad "KVM device missing" "/nonexistent-kvm does not exist: this host offers no KVM" \
	run --kernel "$G/hello.elf" --kvm-device /nonexistent-kvm
bad "KVM device that is not KVM" "speaks KVM API -1" run --kernel "$G/hello.elf" --kvm-device /dev/null
: >"$T/kvm-root-only"
chmod 600 "$T/kvm-root-only"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	chmod 755 "$T"
	CLOAK_REAL=$CLOAK
	out=$T/out.perm err=$T/err.perm rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups "$CLOAK_REAL" run --kernel "$G/hello.elf" \
		--kvm-device "$T/kvm-root-only" --no-pin >"$out" 2>"$err" || rc=$?
	CLOAK=$CLOAK_REAL
	expect "KVM device without permission" 2 --err "is not accessible to this user (permission denied)"
else
	ok "KVM device without permission # SKIP needs root and setpriv to switch users"
fi

# Memory locking: without CAP_IPC_LOCK and with a low RLIMIT_MEMLOCK, cloak says so before anything runs.
if command -v prlimit >/dev/null && command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	out=$T/out.lock err=$T/err.lock rc=0
	prlimit --memlock=65536:65536 setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock \
		"$CLOAK" run --kernel "$G/hello.elf" --kvm-device /nonexistent-kvm >"$out" 2>"$err" || rc=$?
	expect "memory lock limit too low" 2 --err "cannot lock 128 MiB of guest memory: RLIMIT_MEMLOCK is 64 KiB" \
		--err "run with CAP_IPC_LOCK, raise the limit (ulimit -l, limits.conf), or pass --no-pin"
	out=$T/out.lock2 err=$T/err.lock2 rc=0
	prlimit --memlock=65536:65536 setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock \
		"$CLOAK" run --kernel "$G/hello.elf" --kvm-device /nonexistent-kvm --no-pin >"$out" 2>"$err" || rc=$?
	expect "--no-pin needs no memory lock limit" 2 --err "does not exist: this host offers no KVM"
	out=$T/out.lock3 err=$T/err.lock3 rc=0
	prlimit --memlock=65536:4194304 setpriv --bounding-set=-ipc_lock --inh-caps=-ipc_lock \
		"$CLOAK" run --kernel "$G/hello.elf" --kvm-device /nonexistent-kvm --mem 16M >"$out" 2>"$err" || rc=$?
	expect "the message names both memory lock limits" 2 \
		--err "cannot lock 16 MiB of guest memory: RLIMIT_MEMLOCK is 64 KiB (hard limit 4 MiB)"
else
	ok "memory lock limit too low # SKIP needs root, prlimit and setpriv"
fi

# Host inputs that are not what they claim to be: refused at once, before /dev/kvm is even opened.
nokvm="--kvm-device /nonexistent-kvm"
mkfifo "$T/fifo"
CLOAK_CASE_TIMEOUT=10 bad "a FIFO as --kernel is refused, not waited on" "kernel $T/fifo is not a regular file (it is a FIFO)" \
	run --kernel "$T/fifo" $nokvm
CLOAK_CASE_TIMEOUT=10 bad "a FIFO as --initrd is refused, not waited on" "initrd $T/fifo is not a regular file (it is a FIFO)" \
	run --kernel "$G/hello.elf" --initrd "$T/fifo" $nokvm
CLOAK_CASE_TIMEOUT=10 bad "a FIFO as --disk is refused" "--disk: $T/fifo is neither a regular file nor a block device (it is a FIFO)" \
	run --kernel "$G/hello.elf" --disk "$T/fifo" $nokvm
CLOAK_CASE_TIMEOUT=10 bad "a FIFO as a read-only --disk is refused, not waited on" "(it is a FIFO)" \
	run --kernel "$G/hello.elf" --disk "$T/fifo,ro" $nokvm
bad "a missing disk is reported before KVM" "--disk: $T/nope.img does not exist" \
	run --kernel "$G/hello.elf" --disk "$T/nope.img" $nokvm
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	out=$T/out.tun err=$T/err.tun rc=0
	unshare -m sh -c 'mount -t tmpfs none /dev/net && exec "$@"' sh "$CLOAK" run --kernel "$G/hello.elf" \
		--net tap=ctap9 $nokvm >"$out" 2>"$err" || rc=$?
	expect "a host without /dev/net/tun is reported before KVM" 2 --err "--net: cannot open /dev/net/tun"
else
	ok "a host without /dev/net/tun is reported before KVM # SKIP needs root and unshare"
fi
echo "precious" >"$T/precious"
ln -s "$T/precious" "$T/link"
bad "--console file= refuses a symbolic link" "--console: $T/link is a symbolic link" \
	run --kernel "$G/hello.elf" --console "file=$T/link" $nokvm
[ "$(cat "$T/precious")" = precious ] && ok "the file behind the console link is untouched" ||
	not_ok "the file behind the console link is untouched" "it now holds: $(cat "$T/precious")"
bad "--console file= in a missing directory is reported before KVM" "--console: the directory $T/nodir of" \
	run --kernel "$G/hello.elf" --console "file=$T/nodir/out" $nokvm
bad "--console socket= in a missing directory is reported before KVM" "--console: the directory $T/nodir of" \
	run --kernel "$G/hello.elf" --console "socket=$T/nodir/sock" $nokvm
bad "--console socket= on a regular file is refused before KVM" "--console: $T/precious exists and is not a socket" \
	run --kernel "$G/hello.elf" --console "socket=$T/precious" $nokvm
bad "--timeline in a missing directory is reported before KVM" "--timeline: the directory $T/nodir of" \
	run --kernel "$G/hello.elf" --timeline "$T/nodir/t.json" $nokvm
bad "--timeline naming a directory is refused" "--timeline: $T is a directory" \
	run --kernel "$G/hello.elf" --timeline "$T" $nokvm
[ -e "$T/nodir" ] && not_ok "nothing was created for the refused inputs" "$T/nodir exists" ||
	ok "nothing was created for the refused inputs"

# The timeline is written even when the launch fails; its rename is followed by an fsync of the directory.
if command -v strace >/dev/null; then
	out=$T/out.st err=$T/err.st rc=0
	strace -f -e trace=rename,renameat,renameat2,openat,fsync -o "$T/strace" "$CLOAK" run --kernel "$G/hello.elf" \
		$nokvm --timeline "$T/tl.json" >"$out" 2>"$err" || rc=$?
	if [ -f "$T/tl.json" ] && sed -n '/rename.*tl\.json"/,$p' "$T/strace" | grep -q "O_DIRECTORY" &&
		sed -n '/rename.*tl\.json"/,$p' "$T/strace" | grep -q "^[0-9]* *fsync("; then
		ok "the timeline's directory is synced after the rename"
	else
		not_ok "the timeline's directory is synced after the rename" "$(grep -A4 rename "$T/strace")"
	fi
else
	ok "the timeline's directory is synced after the rename # SKIP needs strace (tools/packages.txt)"
fi

run_cloak run --help
expect "run --help documents every option" 0 --out "--kernel FILE" --out "--initrd FILE" --out "--cmdline STR" \
	--out "--mem SIZE" --out "--cpus N" --out "--timeline FILE" --out "--cpuid-clear LIST" --out "--no-pin" \
	--out "--hugepages" --out "--kvm-device PATH" --out "Exit status:" --out "cx16" \
	--out "--disk PATH[,ro]" --out "--net tap=NAME[,mac=MAC]" --out "--console stdio|file=PATH|socket=PATH" \
	--out "their --config keys: disks, net, console"
run_cloak help
expect "cloak help lists the commands" 0 --out "run [OPTIONS]" --out "bench [OPTIONS]" --out "version"

# cloak bench: its own bad inputs, checked before anything runs.
run_cloak bench --help
expect "bench --help documents every option" 0 --out "--runs N" --out "--out DIR" --out "--variant NAME=OPTIONS" \
	--out "--compare-qemu" --out "--draw DIR" --out "results.csv" --out "p10"
run_cloak bench --runs 0
expect "bench refuses --runs 0" 2 --err "--runs: '0' is not a number of launches"
run_cloak bench --variant "a b=--sev"
expect "bench refuses a variant name with a space" 2 --err "--variant: 'a b=--sev' needs a name"
run_cloak bench --variant "q=--cmdline 'console=ttyS0 swiotlb=force"
expect "bench refuses a variant whose quote is not closed" 2 --err "--variant q: a ' is not closed"
run_cloak bench --compare-floor -- --mem 64M
expect "bench --compare-floor needs a PVH --kernel of 64 MiB" 2 --err "--compare-floor runs cloak-floor, which boots only a PVH ELF"
run_cloak bench --variant x= --variant x=--sev
expect "bench refuses a variant name given twice" 2 --err "the name 'x' is given twice"
run_cloak bench --compare-qemu
expect "bench --compare-qemu needs a kernel QEMU boots" 2 --err "--compare-qemu needs --kernel"
run_cloak bench -- --mem 3
expect "bench checks the guest's options with cloak run's rules" 2 --err "the guest's options: --mem"
run_cloak bench --runs 1 -- --disk ,ro
expect "bench checks a device option's grammar before any run" 2 --err "the guest's options: --disk: no path in ',ro'"
run_cloak bench stray
expect "bench refuses options before --" 2 --err "'stray': give the guest's \`cloak run\` options after --"
run_cloak bench --draw "$T/nowhere"
expect "bench --draw names a directory without results" 2 --err "--draw: $T/nowhere has no readable plot.gp"
# Drawing needs no KVM: a results directory as cloak bench writes it, drawn again.
mkdir -p "$T/drawn"
printf '"kvm_open" 1.0 0.5 1.5 2.0 1.0 3.0\n"whole process" 10.0 9.0 11.0 20.0 18.0 22.0\n' >"$T/drawn/plot.dat"
cat >"$T/drawn/plot.gp" <<'EOG'
set style data histograms
set style histogram errorbars gap 2 lw 1
set terminal pngcairo size 600,400
set output "results.png"
plot "plot.dat" using 2:3:4:xtic(1) title "plain", "plot.dat" using 5:6:7 title "sev"
set terminal svg size 600,400
set output "results.svg"
plot "plot.dat" using 2:3:4:xtic(1) title "plain", "plot.dat" using 5:6:7 title "sev"
EOG
if command -v gnuplot >/dev/null; then
	run_cloak bench --draw "$T/drawn"
	if [ "$rc" = 0 ] && [ "$(head -c 4 "$T/drawn/results.png" | od -An -c | tr -d ' ')" = "211PNG" ] &&
		grep -q "<svg" "$T/drawn/results.svg"; then
		ok "bench --draw draws results.png and results.svg with gnuplot"
	else
		not_ok "bench --draw draws results.png and results.svg with gnuplot" "status $rc; $(cat "$err")"
	fi
else
	ok "bench --draw draws results.png and results.svg with gnuplot # SKIP no gnuplot (tools/packages.txt)"
fi
run_cloak version
expect "cloak version" 0 --out "cloak 0."

bad "--user: unknown user" "--user: no user 'no-such-cloak-user' on this host" run --user no-such-cloak-user
bad "--user: root is refused" "--user: 'root' is root; give an unprivileged user" run --user root
bad "--user: group 0 is refused" "--user: group 0 is root's" run --user 65534:0
bad "--user: empty group" "is not USER[:GROUP]" run --user 65534:
bad "--seccomp: unknown mode" "--seccomp: 'strict' is not a mode; give on, off or log" run --seccomp strict

bad "--shutdown-timeout: not a number" "--shutdown-timeout: 'soon' is not a number of seconds from 0 to 3600" \
	run --shutdown-timeout soon
bad "--shutdown-timeout: too long" "is not a number of seconds from 0 to 3600" run --shutdown-timeout 3601

# --config FILE: one JSON file for the whole VM; options beside it override its keys; config print shows the result.
cat >"$T/vm.json" <<'JSON'
{"kernel": "/boot/vmlinuz", "mem": "512M", "cpus": 2, "disks": [{"path": "/srv/a.img", "ro": true}],
 "sev": {"mode": "sev", "backend": "sim"}, "shutdown_timeout": 30}
JSON
run_cloak config print --config "$T/vm.json" --cpus 3
expect "config print: the file's keys, with --cpus from the command line" 0 --out '"mem": 536870912' \
	--out '"cpus": 3' --out '"path=/srv/a.img,ro=on"' --out '"backend": "sim"' \
	--out '"shutdown_timeout": 30'
cp "$out" "$T/printed.json"
run_cloak config print --config "$T/printed.json" --cpus 3
if [ $rc = 0 ] && cmp -s "$out" "$T/printed.json"; then
	ok "config print: its output, read back with --config, prints the same"
else
	not_ok "config print: its output, read back with --config, prints the same" "differs"
fi
echo '{"kernel": "/k", "memory": "1G"}' >"$T/unknown.json"
bad "--config: an unknown key is named" "--config $T/unknown.json: unknown key \"memory\"" run --config "$T/unknown.json"
echo '{"cpus": 100}' >"$T/cpus.json"
bad "--config: a bad value names the file, the key and the rule" \
	"--config $T/cpus.json: key \"cpus\": --cpus: 100 vCPUs are more than cloak supports" run --config "$T/cpus.json"
echo '{"cpus": 2' >"$T/broken.json"
bad "--config: a JSON syntax error gives line and column" "--config $T/broken.json: line" run --config "$T/broken.json"
bad "--config: a missing file" "--config $T/none.json: unable to open" run --config "$T/none.json"
echo '{"disks": ["/srv/a.img", {"path": "/srv/b.img", "rw": true}]}' >"$T/disks.json"
bad "--config: a bad device value names the file, the key, the item and the rule" \
	"--config $T/disks.json: key \"disks\": item 1: --disk: unknown flag 'rw=on'" run --config "$T/disks.json"
bad "config: only print is a subcommand" "usage: cloak config print" config show

# The systemd unit (tools/systemd/cloak@.service) passes systemd-analyze verify, pointed at this cloak.
unit=$(cd "$(dirname "$0")/../../tools/systemd" && pwd)/cloak@.service
if command -v systemd-analyze >/dev/null && [ -f "$unit" ]; then
	mkdir -p "$T/units"
	sed "s|^ExecStart=/usr/local/bin/cloak |ExecStart=$(cd "$(dirname "$CLOAK")" && pwd)/$(basename "$CLOAK") |" "$unit" \
		>"$T/units/cloak@vm1.service"
	out=$T/verify.out err=$T/verify.err rc=0
	(cd "$T/units" && systemd-analyze verify ./cloak@vm1.service) >"$out" 2>"$err" || rc=$?
	if [ $rc = 0 ] && ! [ -s "$err" ] && grep -q "^Type=notify" "$T/units/cloak@vm1.service"; then
		ok "systemd unit: systemd-analyze verify is clean"
	else
		not_ok "systemd unit: systemd-analyze verify is clean" "status $rc"
	fi
else
	ok "systemd unit: systemd-analyze verify # SKIP no systemd-analyze here"
fi

tap_done
