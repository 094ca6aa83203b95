#!/bin/sh
# snp-e2e.sh: the SEV-SNP launch of the demo end to end against the simulated firmware and kernel side: the
# digest cloak measured is the one cloak-owner recomputes, its report verifies, ID blocks are checked.
# usage: snp-e2e.sh CLOAK CLOAK_OWNER DIR   (DIR holds id.pem, a P-384 key, and bzguest.bzImage, the test
# bzImage; needs /dev/kvm: run-snp-e2e.sh)
# The nested host has busybox, no python3 or openssl: the key comes made, the JSON is read with sed.
set -u
CLOAK=$1 OWNER=$2 D=$3
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/# /'
	sed 's/^/#   stderr: /' "$T/err" 2>/dev/null | tail -15
}
ARGS="--sev --sev-mode snp --sev-backend sim --mem 64M --cpus 2"
# Every run is bounded (a launch takes about a second nested), so a hang is one failed case, named with what
# cloak printed, not the whole nested host timing out; -k: a cloak that ignores SIGTERM is killed.
cloak() { timeout -k 10 300 "$CLOAK" "$@"; }

# 1. The launch: digest out, a simulated report and chain out, the owner's command in the timeline.
mkdir -p "$T/rep"
rc=0
cloak run $ARGS --measurement-out "$T/ld.hex" --sev-sim-report "$T/rep" --timeline "$T/tl.json" \
	>"$T/out" 2>"$T/err" </dev/null || rc=$?
if [ "$rc" = 0 ] && grep -qxE '[0-9a-f]{96}' "$T/ld.hex" && grep -q "SIMULATED" "$T/err"; then
	ok "an SNP launch of the demo runs under the simulator and says it is simulated"
else
	not_ok "an SNP launch of the demo runs under the simulator and says it is simulated" "exit status $rc"
fi
# The demo reads SNP from SEV_STATUS; the runtime's #VC handler is installed and, with no GHCB MSR under the
# simulator (a plain guest), idle: the launch above ran as before.
if grep -q "SEV-SNP: active (SEV_STATUS 0x7), C-bit [0-9]*; #VC handler installed, idle: " "$T/out"; then
	ok "the SNP demo says SEV-SNP: active, read from SEV_STATUS"
else
	not_ok "the SNP demo says SEV-SNP: active, read from SEV_STATUS" "$(grep -i sev "$T/out")"
fi

# 1b. A platform that allows less CPUID than cloak asks for: the firmware's corrected page is named and used.
rc=0
CLOAK_TEST_SNP_CPUID_DENY=0x1:edx:0x1 timeout -k 10 300 "$CLOAK" run $ARGS --measurement-out "$T/ld2.hex" >"$T/out" 2>"$T/err" </dev/null || rc=$?
if [ "$rc" = 0 ] && grep -q "CPUID 0x1.0 EDX 0x[0-9a-f]* is more than this platform allows" "$T/err" &&
	cmp -s "$T/ld.hex" "$T/ld2.hex"; then
	ok "a CPUID page the firmware corrects is named, given again corrected, and leaves the digest alone"
else
	not_ok "a CPUID page the firmware corrects is named, given again corrected, and leaves the digest alone" "exit status $rc"
fi

# 2. The owner recomputes the digest from the plan, with the command the timeline names.
cmd=$(sed -n 's/^ *"owner_command": "\(.*\)",\{0,1\}$/\1/p' "$T/tl.json" | sed 's/\\"/"/g')
case $cmd in
"cloak-owner measure --mode snp "*)
	eval "\"$OWNER\" ${cmd#cloak-owner }" >"$T/owner.hex" 2>"$T/err"
	if cmp -s "$T/owner.hex" "$T/ld.hex"; then
		ok "cloak-owner measure --mode snp --cloak-plan gives the digest cloak measured"
	else
		not_ok "cloak-owner measure --mode snp --cloak-plan gives the digest cloak measured" \
			"owner $(cat "$T/owner.hex"), cloak $(cat "$T/ld.hex")"
	fi
	;;
*) not_ok "cloak-owner measure --mode snp --cloak-plan gives the digest cloak measured" "timeline owner_command: '$cmd'" ;;
esac

# 3. The simulated report verifies against the simulated chain and names that digest; a tampered one does not.
if "$OWNER" report verify --allow-unknown-ark --ca "$T/rep/ca.pem" --vcek "$T/rep/vcek.der" \
	--report "$T/rep/report.bin" >"$T/out" 2>"$T/err" &&
	"$OWNER" report show --report "$T/rep/report.bin" 2>"$T/err" | grep -q "$(cat "$T/ld.hex")"; then
	ok "cloak-owner report verify accepts the simulated report, which carries the launch digest"
else
	not_ok "cloak-owner report verify accepts the simulated report, which carries the launch digest" "refused"
fi
cp "$T/rep/report.bin" "$T/bad.bin"
printf '\001' | dd of="$T/bad.bin" bs=1 seek=$((0x90)) conv=notrunc 2>/dev/null
if "$OWNER" report verify --allow-unknown-ark --ca "$T/rep/ca.pem" --vcek "$T/rep/vcek.der" \
	--report "$T/bad.bin" >"$T/out" 2>"$T/err"; then
	not_ok "cloak-owner report verify refuses a tampered report" "accepted"
else
	ok "cloak-owner report verify refuses a tampered report"
fi

# 4. An ID block for this digest is accepted; one for another digest stops the launch before the guest runs.
idb() {  # DIGEST
	"$OWNER" id-block build --launch-digest "$1" --id-key "$D/id.pem" >"$T/idb.txt" 2>"$T/err" &&
		sed -n 's/^id-block=//p' "$T/idb.txt" >"$T/idb.b64" && sed -n 's/^id-auth=//p' "$T/idb.txt" >"$T/ida.b64"
}
hd=$(head -c 32 /dev/urandom | base64 -w0)
if idb "$(cat "$T/ld.hex")" && cloak run $ARGS --id-block "$T/idb.b64" --id-auth "$T/ida.b64" --host-data "$hd" \
	--sev-sim-report "$T/rep" >"$T/out" 2>"$T/err" </dev/null &&
	"$OWNER" report show --report "$T/rep/report.bin" 2>/dev/null | grep -q "$(printf '%s' "$hd" | base64 -d | od -An -tx1 | tr -d ' \n')"; then
	ok "an ID block for the launch digest is accepted, and the report carries --host-data"
else
	not_ok "an ID block for the launch digest is accepted, and the report carries --host-data" "refused"
fi
other=$(printf '%096d' 0)
rc=0
idb "$other" && cloak run $ARGS --id-block "$T/idb.b64" --id-auth "$T/ida.b64" >"$T/out" 2>"$T/err" </dev/null || rc=$?
if [ "$rc" != 0 ] && grep -q "BAD_MEASUREMENT" "$T/err" && ! grep -q "Hello" "$T/out"; then
	ok "an ID block for another digest stops the launch (BAD_MEASUREMENT)"
else
	not_ok "an ID block for another digest stops the launch (BAD_MEASUREMENT)" "exit status $rc"
fi
# 4b. A bzImage guest (the test guest, tests/guests/bzguest.c: it never PVALIDATEs, so it runs under the
# simulator where Linux could not) finds the CC blob as Linux looks for it, through a SETUP_CC_BLOB setup_data
# entry, and the blob names the secrets and CPUID pages the plan launched with those page types.
if [ -f "$D/bzguest.bzImage" ]; then
	rc=0
	cloak run $ARGS --kernel "$D/bzguest.bzImage" --cmdline "console=ttyS0" --measurement-out "$T/bz.hex" \
		--timeline "$T/bztl.json" >"$T/bzout" 2>"$T/err" </dev/null || rc=$?
	# The plan's own page list: where the owner's plan puts the SECRETS and CPUID pages.
	cmd=$(sed -n 's/^ *"owner_command": "\(.*\)",\{0,1\}$/\1/p' "$T/bztl.json" | sed 's/\\"/"/g')
	secrets="" cpuid="" owner_ok=""
	case $cmd in
	"cloak-owner measure --mode snp "*)
		vcmd=$(printf '%s' "${cmd#cloak-owner }" | sed 's/ --cloak-plan / --verbose --cloak-plan /')
		eval "\"$OWNER\" $vcmd" >"$T/bzowner.hex" 2>"$T/bzowner.err" &&
			[ "$(grep -oE '[0-9a-f]{96}' "$T/bzowner.hex")" = "$(cat "$T/bz.hex")" ] && owner_ok=1
		secrets=$(sed -n 's/^cloak-owner: snp page 0x0*\([0-9a-f]*\) secrets$/0x\1/p' "$T/bzowner.err")
		cpuid=$(sed -n 's/^cloak-owner: snp page 0x0*\([0-9a-f]*\) cpuid$/0x\1/p' "$T/bzowner.err")
		;;
	esac
	# 7 e820 entries: the blob, secrets and CPUID pages split the low RAM; the guest exits with (7 << 1) | 1.
	if [ "$rc" = 15 ] && [ -n "$secrets" ] && [ -n "$cpuid" ] &&
		grep -q "^setup_data: 0x[0-9a-f]* type 7 len 4$" "$T/bzout" &&
		grep -q "^cc blob: at [0-9a-fx]* magic 0x45444d41 (AMDE) version 1 secrets $secrets+0x1000 cpuid $cpuid+0x1000$" "$T/bzout"; then
		ok "an SNP bzImage guest finds the CC blob through SETUP_CC_BLOB, naming the plan's secrets ($secrets) and CPUID ($cpuid) pages"
	else
		not_ok "an SNP bzImage guest finds the CC blob through SETUP_CC_BLOB, naming the plan's secrets and CPUID pages" \
			"exit status $rc, plan: secrets '$secrets' cpuid '$cpuid'; guest: $(grep -E 'setup_data|cc blob' "$T/bzout" | tr '\n' ' ')"
	fi
	blob=$(sed -n 's/^cc blob: at \(0x[0-9a-f]*\) .*/\1/p' "$T/bzout")
	# Reserved in e820 as OVMF reserves them (Linux maps the secrets page with ioremap_encrypted, which refuses RAM).
	if [ -n "$blob" ] && grep -q "^e820: $blob +0x3000 type 2$" "$T/bzout"; then
		ok "the CC blob, secrets and CPUID pages are one reserved e820 range"
	else
		not_ok "the CC blob, secrets and CPUID pages are one reserved e820 range" "$(grep e820 "$T/bzout" | tr '\n' ' ')"
	fi
	# What the guest reads there passes the checks Linux's SNP boot code makes before it trusts the table. The
	# SEV bit of 0x8000001F is not asked for: under the simulator a bzImage guest is not shown SEV (it runs as a
	# plain guest), and the CPUID page holds the CPUID it is given; on hardware that CPUID has SEV and SNP.
	if grep -q "^snp cpuid page: count ok, 0x80000000 reaches 0x8000001f\|^snp cpuid page: count ok, 0x80000000 reaches 0x800000[2-9a-f][0-9a-f]" "$T/bzout" &&
		grep -q "0x8000001f present (EAX 0x[0-9a-f]*, SEV bit [01]), 0xd.0 ok, 0xd.1 ok$" "$T/bzout" &&
		grep -q "^snp secrets page: version 2, VMPCK0 set$" "$T/bzout"; then
		ok "the CPUID page passes Linux's checks (count, 0x8000001F, 0xD.0/1) and the secrets page holds VMPCK0"
	else
		not_ok "the CPUID page passes Linux's checks (count, 0x8000001F, 0xD.0/1) and the secrets page holds VMPCK0" \
			"$(grep '^snp ' "$T/bzout" | tr '\n' ' ')"
	fi
	if [ -n "$owner_ok" ]; then
		ok "cloak-owner measure --cloak-plan gives the digest of the bzImage launch, CC blob page included"
	else
		not_ok "cloak-owner measure --cloak-plan gives the digest of the bzImage launch, CC blob page included" \
			"owner $(cat "$T/bzowner.hex" 2>/dev/null), cloak $(cat "$T/bz.hex" 2>/dev/null); $(tail -2 "$T/bzowner.err" 2>/dev/null)"
	fi
	# Linux 6.1 stops on any VMSA feature (DebugSwap among them): a bzImage gets none, and the owner is told so.
	if grep -q "a Linux bzImage is launched without the VMSA features 0x20 KVM offers" "$T/err" &&
		case $cmd in *" --guest-features 0x1 "*) true ;; *) false ;; esac; then
		ok "a bzImage is launched without DebugSwap, and the owner's command says --guest-features 0x1"
	else
		not_ok "a bzImage is launched without DebugSwap, and the owner's command says --guest-features 0x1" "$cmd"
	fi
	if grep -q "this bzimage guest is NOT shown SEV-SNP (CPUID and SEV_STATUS say no SEV) and runs as a plain guest" "$T/err" &&
		! grep -q "CLOAK_SIM_MEMORY" "$T/err"; then
		ok "under the simulator cloak says a bzImage guest is not shown SNP and runs as a plain guest"
	else
		not_ok "under the simulator cloak says a bzImage guest is not shown SNP and runs as a plain guest" "no such line"
	fi
else
	not_ok "an SNP bzImage guest finds the CC blob" "no bzguest.bzImage in $D"
fi
# 4c. A stock kernel (Debian's cloud kernel and the test initramfs, when run-snp-e2e.sh found them) launched the
# same way: under the simulator it is not shown SNP and boots as a plain guest, with the CC blob in its launch,
# every RAM page given, and the digest cloak-owner recomputes.
if [ -f "$D/bzImage" ] && [ -f "$D/initrd.gz" ]; then
	rc=0
	start=$(date +%s)
	cloak run $ARGS --mem 512M --kernel "$D/bzImage" --initrd "$D/initrd.gz" \
		--cmdline "console=ttyS0 reboot=k panic=-1 quiet" --measurement-out "$T/lx.hex" --timeline "$T/lxtl.json" \
		>"$T/lxout" 2>"$T/err" </dev/null || rc=$?
	echo "# the stock kernel's simulated SNP launch and boot took $(($(date +%s) - start)) s"
	cmd=$(sed -n 's/^ *"owner_command": "\(.*\)",\{0,1\}$/\1/p' "$T/lxtl.json" | sed 's/\\"/"/g')
	owner=""
	case $cmd in
	"cloak-owner measure --mode snp "*) owner=$(eval "\"$OWNER\" ${cmd#cloak-owner }" 2>/dev/null) ;;
	esac
	if grep -q "cloak-linux: userspace reached" "$T/lxout" && grep -q "NOT shown SEV-SNP" "$T/err" &&
		[ -n "$owner" ] && [ "$owner" = "$(cat "$T/lx.hex")" ]; then
		ok "a stock kernel launched as SNP under the simulator boots as a plain guest; cloak-owner reproduces the digest"
	else
		not_ok "a stock kernel launched as SNP under the simulator boots as a plain guest; cloak-owner reproduces the digest" \
			"exit status $rc, owner '$owner', cloak '$(cat "$T/lx.hex" 2>/dev/null)'; $(tail -3 "$T/lxout")"
	fi
else
	echo "######## SKIPPED: no bzImage/initrd in the payload; the stock-kernel SNP test did NOT run ########" >&2
	n=$((n + 1)); echo "ok $n - # SKIP the stock-kernel SNP launch: no Debian cloud kernel"
fi
# 5. This host's own kernel (Debian 12's 6.1): no SNP, said plainly by host-check and by cloak run.
rc=0
cloak host-check >"$T/out" 2>"$T/err" || rc=$?
if grep -q "this kernel has no SNP support" "$T/out" || grep -q "KVM_X86_SNP_VM offered" "$T/out"; then
	ok "host-check says whether this kernel offers KVM_X86_SNP_VM"
else
	not_ok "host-check says whether this kernel offers KVM_X86_SNP_VM" "neither line in its report"
fi
if grep -q "KVM_X86_SNP_VM offered" "$T/out"; then
	ok "cloak run --sev-mode snp on a kernel without SNP # SKIP this kernel offers SNP"
else
	rc=0
	cloak run --sev --sev-mode snp --mem 64M >"$T/out" 2>"$T/err" </dev/null || rc=$?
	if [ "$rc" = 2 ] && grep -q "this kernel has no SNP support" "$T/err"; then
		ok "cloak run --sev-mode snp on a kernel without SNP says so (exit 2)"
	else
		not_ok "cloak run --sev-mode snp on a kernel without SNP says so (exit 2)" "exit status $rc"
	fi
fi
echo "1..$n"
[ "$failed" = 0 ]
