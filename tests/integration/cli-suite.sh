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
bad "neither ELF nor bzImage" "is neither an ELF64 executable nor a Linux bzImage" run --kernel "$T/text"
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

run_cloak run --help
expect "run --help documents every option" 0 --out "--kernel FILE" --out "--initrd FILE" --out "--cmdline STR" \
	--out "--mem SIZE" --out "--cpus N" --out "--timeline FILE" --out "--cpuid-clear LIST" --out "--no-pin" \
	--out "--hugepages" --out "--kvm-device PATH" --out "Exit status:" --out "cx16"
run_cloak help
expect "cloak help lists the commands" 0 --out "run [OPTIONS]" --out "version"
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
	--out '"cpus": 3' --out '"path": "/srv/a.img"' --out '"ro": true' --out '"backend": "sim"' \
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
