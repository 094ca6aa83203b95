#!/bin/sh
# cli-suite.sh: the SEV command line without KVM: cloak's clear refusals, host-check, sev-export,
# and cloak-owner against published vectors and the openssl command line.
# usage: cli-suite.sh CLOAK CLOAK_OWNER FIXTURES_DIR GUEST_DIR   (GUEST_DIR holds the built tests/guests files)
set -u
CLOAK=$1 OWNER=$2 FIX=$3 G=$4
case $OWNER in /*) ;; *) OWNER=$PWD/$OWNER ;; esac   # some tests run it from another directory
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
out=$T/out err=$T/err

run() { rc=0; "$@" >"$out" 2>"$err" </dev/null || rc=$?; }
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/# /'
	sed 's/^/#   stdout: /' "$out" | head -20; sed 's/^/#   stderr: /' "$err" | head -20; echo "#   exit status: $rc"
}
# expect NAME STATUS [--out TEXT] [--err TEXT] [--err-absent TEXT]...
expect() {
	name=$1 want=$2
	shift 2
	if [ "$rc" != "$want" ]; then not_ok "$name" "exit status $rc, wanted $want"; return; fi
	while [ $# -gt 0 ]; do
		if [ "$1" = --err-absent ]; then
			if grep -qF -- "$2" "$err"; then not_ok "$name" "stderr has: $2"; return; fi
			shift 2
			continue
		fi
		case $1 in --out) f=$out ;; *) f=$err ;; esac
		if ! grep -qF -- "$2" "$f"; then not_ok "$name" "${1#--} lacks: $2"; return; fi
		shift 2
	done
	ok "$name"
}
b64hex() { printf '%s' "$1" | xxd -r -p | base64 -w0; }

# ---- cloak ----
run "$CLOAK" host-check
if [ "$rc" = 0 ]; then
	skip "host-check on a host without SEV" "this host can launch SEV guests"
	skip "cloak run --sev fails clearly without SEV" "this host can launch SEV guests"
else
	expect "host-check says plainly that SEV is not available" 1 --out "SEV: NOT available" --out "CPUID 0x8000001F" --out "/dev/sev"
	run "$CLOAK" run --sev
	expect "cloak run --sev fails clearly without SEV" 2 --err "SEV is not available" --err "host-check"
fi
run "$CLOAK" host-check --json
if grep -q '"sev": {"available": ' "$out" && grep -q '"source": "CPUID 0x8000001F EAX bit 1"' "$out"; then
	ok "host-check --json names each item's source and a verdict"
else
	not_ok "host-check --json names each item's source and a verdict" "unexpected JSON"
fi
if command -v python3 >/dev/null && python3 -c 'import json' 2>/dev/null; then
	if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]["sev_es"]["available"] is False' "$out"; then
		ok "host-check --json is valid JSON"
	else
		not_ok "host-check --json is valid JSON" "python3 could not load it"
	fi
else
	skip "host-check --json is valid JSON" "no python3"
fi
# kvm_amd's parameters from a substitute directory: a kernel whose kvm_amd has SNP switched off.
mkdir -p "$T/params"
echo Y >"$T/params/sev"; echo Y >"$T/params/sev_es"; echo N >"$T/params/sev_snp"
run "$CLOAK" host-check --kvm-amd-params "$T/params"
expect "host-check reads kvm_amd's sev_snp and says how to turn it on" 1 --out "SEV-SNP: NOT available" \
	--out "sev_snp=N: reload it with sev_es=1 sev_snp=1"
rm "$T/params/sev_snp"
run "$CLOAK" host-check --kvm-amd-params "$T/params"
expect "host-check names a kernel older than SNP" 1 --out "no sev_snp parameter: this kernel predates SNP"
run "$CLOAK" run --sev --id-block "$T/none" --id-auth "$T/none"
expect "--id-block needs --sev-mode snp" 2 --err "need --sev-mode snp"
run "$CLOAK" run --sev --sev-mode snp --id-block "$T/none"
expect "--id-block needs --id-auth" 2 --err "--id-block needs --id-auth"
run "$CLOAK" run --sev --sev-mode snp --policy 0x3
expect "--policy (SEV's) is refused under --sev-mode snp" 2 --err "SNP policy 0x30000"
run "$CLOAK" run --sev --sev-mode snp --host-data AAAA
expect "--host-data must be 32 bytes of base64" 2 --err "exactly 32 bytes"
run "$CLOAK" run --sev --sev-mode snp --sev-sim-report "$T"
expect "--sev-sim-report needs the simulator" 2 --err "--sev-sim-report needs --sev-backend sim"
HD=QevpEbdRXKGpTO0L2q3wI60FRX/A0iO2tjL0z3s4QQY=
run "$CLOAK" config print --sev --sev-mode snp --sev-backend sim --id-block "$T/idb" --id-auth "$T/ida" --host-data "$HD" --sev-sim-report "$T"
cp "$out" "$T/snp.json"
run "$CLOAK" config print --config "$T/snp.json"
if [ "$rc" = 0 ] && cmp -s "$out" "$T/snp.json" && grep -q "\"host_data\": \"$HD\"" "$out" && grep -q '"mode": "snp"' "$out"; then
	ok "config print carries the SNP options, and --config reads them back the same"
else
	not_ok "config print carries the SNP options, and --config reads them back the same" "differs"
fi
run "$CLOAK" host-check --bogus
expect "host-check refuses unknown options" 2 --err "unknown option --bogus"
run "$CLOAK" run --sev --policy 0x40
expect "reserved policy bits are refused before any ioctl" 2 --err "bits 6-15" --err "reserved"
run "$CLOAK" run --sev --policy 0x4
expect "an SEV-ES policy is refused" 2 --err "SEV-ES" --err "--sev-mode es"
run "$CLOAK" run --sev --sev-mode esx
expect "--sev-mode names a bad mode" 2 --err "--sev-mode: 'esx' is not a mode" --err "sev (plain SEV), es (SEV-ES) or snp"
run "$CLOAK" run --sev --sev-mode ""
expect "--sev-mode refuses an empty mode" 2 --err "--sev-mode: '' is not a mode"
run "$CLOAK" run --sev-mode es
expect "--sev-mode without --sev" 2 --err "--sev-mode needs --sev"
run "$CLOAK" run --sev --sev-mode snp
if [ "$rc" = 2 ] && grep -qE -e "--sev-mode snp: (cannot open /dev/kvm|this kernel has no SNP support)" "$err"; then
	ok "--sev-mode snp on a host without KVM or without SNP says which (exit 2)"
else
	not_ok "--sev-mode snp on a host without KVM or without SNP says which (exit 2)" "unexpected"
fi
run "$CLOAK" run --help
expect "run --help lists --sev-mode" 0 --out "--sev-mode MODE"
run "$CLOAK" config print --sev --sev-mode es --sev-backend sim
expect "config print keeps the SEV mode" 0 --out '"mode": "es"'
printf '{"sev": {"mode": "sev-es"}}\n' >"$T/badmode.json"
run "$CLOAK" run --config "$T/badmode.json"
expect "the config file names a bad sev.mode" 2 --err "sev.mode" --err "es (SEV-ES)"
run "$CLOAK" run --policy 1
expect "--policy without --sev" 2 --err "--policy needs --sev"
run "$CLOAK" run --sev --dh-cert-file "$T/x"
expect "--dh-cert-file without --session-file" 2 --err "needs --session-file"
run "$CLOAK" run --sev --sev-backend sim --dh-cert-file "$T/none" --session-file "$T/none"
expect "a missing GODH file is named" 2 --err "--dh-cert-file $T/none does not exist"
run "$CLOAK" run --sev --no-pin
expect "--sev refuses --no-pin" 2 --err "pinned"
run "$CLOAK" sev-export --sev-backend sim "$T/pdh"
expect "sev-export sim needs a kept key" 2 --err "--sev-sim-key"
run "$CLOAK" sev-export --sev-backend sim --sev-sim-key "$T/platform.pem" "$T/pdh.cert"
if [ "$rc" = 0 ] && [ "$(wc -c <"$T/pdh.cert")" = 2084 ] && grep -q SIMULATED "$err"; then
	ok "sev-export writes the simulated platform's 2084-byte PDH"
else
	not_ok "sev-export writes the simulated platform's 2084-byte PDH" "no PDH certificate"
fi

# ---- cloak-owner ----
printf '66320db73158a35a255d051758e95ed4' | xxd -r -p >"$T/tik"
LD=$(b64hex e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855)
NONCE=$(b64hex 4fbe0bedbad6c86ae8f68971d103e554)
WANT=$(b64hex 6faab2daae389bcd3405a05d6cafe33c0414f7bedd0bae19ba5f38b7fd1664ea4fbe0bedbad6c86ae8f68971d103e554)
V="--api-major 0 --api-minor 0x12 --build-id 0x0f --policy 0 --tik $T/tik --launch-digest $LD"
run "$OWNER" measurement build $V --nonce "$NONCE"
expect "measurement build: AMD sev-tool's published vector" 0 --out "$WANT"
run "$OWNER" measurement verify $V --launch-measure-blob "$WANT"
expect "measurement verify: a match exits 0" 0 --err "matches"
run "$OWNER" measurement verify --api-major 0 --api-minor 0x12 --build-id 0x0f --policy 1 --tik "$T/tik" --launch-digest "$LD" --launch-measure-blob "$WANT"
expect "measurement verify: another policy exits 1" 1 --err "does NOT match"
run "$OWNER" measurement build $V
expect "measurement build without a nonce" 2 --err "--nonce"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/pdh.cert" --launch-digest "$LD" --nonce "$NONCE"
expect "a TIK file of the wrong size is named" 2 --err "--tik" --err "exactly 16"
run "$OWNER" measurement build $V --nonce 'not base64'
expect "a bad --nonce is named" 2 --err "--nonce"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cloak-plan
expect "--cloak-plan needs --cbit" 2 --err "--cbit"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cpu-generation sim --verbose --cloak-plan --mem 64M
expect "--cloak-plan measures cloak's own plan of the demo guest" 0 --err "bytes measured in all" --err "page tables"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cpu-generation sim --verbose --cloak-plan --mem 64M --measured-boot verifier
expect "--cloak-plan measures the boot verifier and its table by default, not the kernel" 0 --err "measured boot verifier" \
	--err "measured verifier table" --err "staged unmeasured at 0x" --err-absent "measured kernel segment"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cpu-generation sim --verbose --cloak-plan --mem 64M --measured-boot full
expect "--cloak-plan --measured-boot full measures the kernel itself" 0 --err "measured kernel segment" \
	--err-absent "verifier"
run "$CLOAK" run --sev --measured-boot some
expect "--measured-boot names a bad mode" 2 --err "--measured-boot: 'some' is not a mode"
run "$CLOAK" run --measured-boot full
expect "--measured-boot without --sev" 2 --err "--measured-boot needs --sev"
run "$CLOAK" run --sev --measured-boot full --debug-tamper-staged kernel
expect "--debug-tamper-staged needs the verifier" 2 --err "needs --measured-boot verifier"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cpu-generation sim --cloak-plan --kernel "$T/none"
expect "--cloak-plan names a missing kernel" 2 --err "--cloak-plan: kernel file"

# Entries that turn paging on without the C-bit cannot run encrypted: refused before anything runs,
# by cloak and by the owner's tool alike (both build the same plan).
run "$CLOAK" run --sev --sev-backend sim --kernel "$G/pvh.elf"
expect "--sev refuses a PVH entry (ELF64 note) and points to the bzImage" 2 --err "--sev: $G/pvh.elf would be entered through its Xen PVH note" \
	--err "lack the SEV C-bit" --err "Boot the kernel's bzImage instead"
run "$CLOAK" run --sev --sev-backend sim --kernel "$G/pvh32.elf"
expect "--sev refuses a PVH entry (ELF32)" 2 --err "through its Xen PVH note" --err "bzImage"
run "$CLOAK" run --sev --sev-backend sim --kernel "$G/mb1.elf"
expect "--sev refuses a Multiboot 1 kernel and says what works" 2 --err "is a Multiboot 1 kernel, entered in 32-bit mode" \
	--err "boot a 64-bit ELF built for cloak" --err "or a Linux bzImage"
run "$CLOAK" run --sev --sev-backend sim --kernel "$G/mb1-aout.bin"
expect "--sev refuses a flat Multiboot 1 kernel" 2 --err "is a Multiboot 1 kernel"
run "$CLOAK" run --sev --sev-backend sim --kernel "$G/mb2.elf"
expect "--sev refuses a Multiboot 2 kernel" 2 --err "is a Multiboot 2 kernel"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cpu-generation sim --cloak-plan --kernel "$G/pvh.elf"
expect "cloak-owner --cloak-plan refuses the PVH entry as cloak does" 2 --err "Xen PVH note" --err "bzImage"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cpu-generation sim --cloak-plan --kernel "$G/bzguest.bzImage"
expect "cloak-owner --cloak-plan still measures a bzImage" 0

run "$OWNER" session --name "$T/vm" "$T/pdh.cert" 0x1
if [ "$rc" = 0 ] && [ "$(base64 -d <"$T/vm_godh.b64" | wc -c)" = 2084 ] && [ "$(base64 -d <"$T/vm_session.b64" | wc -c)" = 128 ] &&
	[ "$(wc -c <"$T/vm_tek.bin")" = 16 ] && [ "$(wc -c <"$T/vm_tik.bin")" = 16 ]; then
	ok "session writes NAME_godh.b64, NAME_session.b64, NAME_tek.bin, NAME_tik.bin"
else
	not_ok "session writes NAME_godh.b64, NAME_session.b64, NAME_tek.bin, NAME_tik.bin" "missing or wrong-sized files"
fi
run "$OWNER" session --name "$T/vm2" "$T/tik" 0x1
expect "session refuses a file that is no PDH" 2 --err "PDH certificate"
printf 'AAAAA' >"$T/pdh5"
run "$OWNER" session --name "$T/vm3" "$T/pdh5" 0x1
expect "session refuses a 5-byte PDH (neither raw nor base64) without freeing garbage" 2 --err "neither 2084 bytes nor base64"

# FIFOs and other non-regular files: refused at once, named, never waited on (timeout: before the fix they hung).
mkfifo "$T/fifo"
run timeout -k 10 20 "$CLOAK" run --sev --sev-backend sim --dh-cert-file "$T/fifo" --session-file "$T/vm_session.b64"
expect "a FIFO as --dh-cert-file is refused" 2 --err "--dh-cert-file $T/fifo is a FIFO, not a regular file"
run timeout -k 10 20 "$CLOAK" run --sev --sev-backend sim --dh-cert-file "$T/vm_godh.b64" --session-file "$T/fifo"
expect "a FIFO as --session-file is refused" 2 --err "--session-file $T/fifo is a FIFO, not a regular file"
run timeout -k 10 20 "$CLOAK" run --sev --sev-backend sim --dh-cert-file "$T" --session-file "$T/vm_session.b64"
expect "a directory as --dh-cert-file is refused" 2 --err "--dh-cert-file $T is a directory"
run timeout -k 10 20 "$CLOAK" sev-export --sev-backend sim --sev-sim-key "$T/fifo" "$T/pdh-out"
expect "a FIFO as --sev-sim-key is refused" 2 --err "--sev-sim-key $T/fifo is a FIFO, not a regular file"
run timeout -k 10 20 "$OWNER" session --name "$T/vm4" "$T/fifo" 0x1
expect "a FIFO as the owner's PDH certificate is refused" 2 --err "PDH certificate $T/fifo is a FIFO"
run timeout -k 10 20 "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/fifo" --launch-digest "$LD" --nonce "$NONCE"
expect "a FIFO as the owner's --tik is refused" 2 --err "$T/fifo is a FIFO"
run timeout -k 10 20 "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik /dev/zero --launch-digest "$LD" --nonce "$NONCE"
expect "a character device as the owner's --tik is refused" 2 --err "/dev/zero is a character device"

# secret build, checked with the openssl command line: decrypt with the TEK, recompute the MAC with the TIK.
printf 'hunter2 is not a good password' >"$T/s1"
BLOB=$(b64hex 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f)
run "$OWNER" secret build --tik "$T/vm_tik.bin" --tek "$T/vm_tek.bin" --launch-measure-blob "$BLOB" \
	--secret 736869e5-84f0-4973-92ec-06879ce3da0b:"$T/s1" "$T/hdr" "$T/payload"
if [ "$rc" != 0 ] || ! command -v openssl >/dev/null; then
	[ "$rc" != 0 ] && not_ok "secret build" "failed"
	[ "$rc" = 0 ] && skip "secret build matches an openssl decryption and MAC" "no openssl"
else
	iv=$(xxd -p -s 4 -l 16 "$T/hdr" | tr -d '\n')
	openssl enc -d -aes-128-ctr -K "$(xxd -p "$T/vm_tek.bin")" -iv "$iv" -in "$T/payload" -out "$T/plain" 2>/dev/null
	len=$(wc -c <"$T/payload")
	le32() { printf '%08x' "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/'; }
	{ printf '01'; xxd -p -l 20 "$T/hdr"; le32 "$len"; le32 "$len"; xxd -p "$T/payload"; \
	  printf '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'; } | tr -d '\n' | xxd -r -p >"$T/macin"
	mac=$(openssl dgst -sha256 -mac HMAC -macopt hexkey:"$(xxd -p "$T/vm_tik.bin")" -r "$T/macin" | cut -d' ' -f1)
	if ! grep -q 'hunter2 is not a good password' "$T/plain"; then
		not_ok "secret build matches an openssl decryption and MAC" "openssl could not decrypt the payload"
	elif [ "$mac" != "$(xxd -p -s 20 -l 32 "$T/hdr" | tr -d '\n')" ]; then
		not_ok "secret build matches an openssl decryption and MAC" "MAC $mac differs"
	else
		ok "secret build matches an openssl decryption and MAC"
	fi
fi
run "$OWNER" secret build --tik "$T/vm_tik.bin" --tek "$T/vm_tek.bin" --launch-measure-blob "$BLOB" --secret nope "$T/h" "$T/p"
expect "secret build names a bad --secret" 2 --err "GUID:FILE"

# sevctl's published vectors (tests/measurementbuild.rs), when the fixtures are here.
S=$FIX/sevctl/tests/data
if [ -d "$S" ]; then
	SV="--api-major 0x01 --api-minor 40 --build-id 40 --policy 0x03 --nonce wxP6tRHCFrFQWxsuqZA8QA== --tik $S/measurement/tik1.bin"
	run "$OWNER" measurement build $SV --firmware "$S/OVMF.amdsev.fd_trimmed_edk2-ovmf-20220126gitbb1bba3d77-4.el9" \
		--kernel "$S/measurement/vmlinuz-fake" --initrd "$S/measurement/initrd-fake" --cmdline "foo bar baz fake kernel=cmdline"
	got=$(head -c 44 "$out" | base64 -d 2>/dev/null | head -c 32 | base64 -w0)
	if [ "$got" = "h3auYbWQnVW7EGLWN4Hf9SN0oEYMPU2sK4bLnefWPws=" ]; then
		ok "measurement build --firmware --kernel: sevctl's published vector"
	else
		not_ok "measurement build --firmware --kernel: sevctl's published vector" "got $got"
	fi
else
	echo "######## SKIPPED: no fixtures at $FIX; sevctl's vectors did NOT run ########" >&2
	skip "measurement build --firmware --kernel: sevctl's published vector" "no fixtures at $FIX"
fi

# ---- cloak-owner measure / verify / report / id-block: bad input named, exit 2 ----
run "$OWNER" measure --ovmf "$T/none"
expect "measure needs --mode" 2 --err "--mode is needed"
run "$OWNER" measure --mode sevsnp --ovmf "$T/none"
expect "measure names a bad --mode" 2 --err "--mode: 'sevsnp'"
run "$OWNER" measure --mode sev --ovmf "$T/none"
expect "measure names a missing --ovmf" 2 --err "--ovmf $T/none does not exist"
run "$OWNER" measure --mode snp --ovmf "$T/none" --vcpu-type EPYC-v4
expect "measure --mode snp needs --vcpus" 2 --err "missing --vcpus"
run "$OWNER" measure --mode snp --vcpus 2 --ovmf "$T/none"
expect "measure --mode snp under QEMU needs the vCPU signature" 2 --err "--vcpu-type, --vcpu-sig or --vcpu-family"
run "$OWNER" measure --mode seves --vcpus 2 --vcpu-type EPYC-Zen9 --ovmf "$T/none"
expect "measure names an unknown --vcpu-type" 2 --err "--vcpu-type: 'EPYC-Zen9'" --err "EPYC-Milan"
run "$OWNER" measure --mode snp --vcpus 1 --vcpu-family 25 --ovmf "$T/none"
expect "measure: --vcpu-family needs model and stepping" 2 --err "--vcpu-model and --vcpu-stepping"
run "$OWNER" measure --mode snp --vcpus 1 --vcpu-sig 1 --vmm-type kvmtool --ovmf "$T/none"
expect "measure names an unknown --vmm-type" 2 --err "unknown VMM type 'kvmtool'"
run "$OWNER" measure --mode sev --ovmf "$T/none" --snp-ovmf-hash 00
expect "measure: --snp-ovmf-hash only with snp" 2 --err "--snp-ovmf-hash works only with --mode snp"
run "$OWNER" measure --mode snp --vcpus 1 --vcpu-sig 1 --ovmf "$T/none" --snp-ovmf-hash 00
expect "measure names a short --snp-ovmf-hash" 2 --err "96 hex digits"
run "$OWNER" measure --mode sev --ovmf "$T/none" --initrd "$T/none"
expect "measure: --initrd needs --kernel" 2 --err "--initrd needs --kernel"
run "$OWNER" measure --mode sev --ovmf "$T/none" --dump-vmsa
expect "measure: --dump-vmsa needs seves or snp" 2 --err "--dump-vmsa needs --mode seves or snp"
run "$OWNER" measure --mode sev --ovmf "$T/none" --output-format hexadecimal
expect "measure names a bad --output-format" 2 --err "--output-format: 'hexadecimal'"
run "$OWNER" measure --mode snp --vcpus 1 --vcpu-sig 1 --cbit 51 --cloak-plan --mem 64M
if [ "$rc" = 0 ] && grep -qxE '[0-9a-f]{96}' "$out"; then
	ok "measure --cloak-plan --mode snp prints the 48-byte SNP digest of cloak's plan"
else
	not_ok "measure --cloak-plan --mode snp prints the 48-byte SNP digest of cloak's plan" "no 96 hex digits"
fi
run "$OWNER" measure --mode snp --vcpus 1 --cbit 51 --cloak-plan --mem 64M
expect "measure --cloak-plan --mode snp needs the vCPU signature, as sev-snp-measure does" 2 --err "--vcpu-sig"
run "$OWNER" measure --mode snp --vcpus 2 --vcpu-sig 1 --cbit 51 --cloak-plan --mem 64M
expect "measure --cloak-plan --mode snp checks --vcpus against the plan" 2 --err "--vcpus 2"
run "$OWNER" measure --mode seves --cpu-generation sim --cloak-plan --mem 64M
expect "measure --mode seves --cloak-plan needs the vCPU signature" 2 --err "--vcpu-type, --vcpu-sig or --vcpu-family"
run "$OWNER" measure --mode seves --vcpu-sig 0x800f12 --kvm-sev-init init3 --cpu-generation sim --cloak-plan --mem 64M
expect "measure names a bad --kvm-sev-init" 2 --err "--kvm-sev-init: 'init3'"
run "$OWNER" measure --mode sev --kvm-sev-init legacy --cpu-generation sim --cloak-plan --mem 64M
expect "measure --mode sev refuses the VMSA options" 2 --err "plain SEV launch measures none"
run "$OWNER" measure --mode seves --vcpu-sig 0x800f12 --cpu-generation sim --cloak-plan --sev --sev-mode sev --mem 64M
expect "measure --mode seves refuses a plan launched as plain SEV" 2 --err "--sev-mode sev, but --mode seves"
run "$OWNER" measure --mode seves --vcpu-sig 0x800f12 --vcpus 3 --cpu-generation sim --cloak-plan --cpus 2
expect "measure --mode seves: --vcpus must agree with the plan's --cpus" 2 --err "--vcpus 3" --err "2 vCPUs"
run "$OWNER" measure --mode seves --vcpu-sig 0x800f12 --cpu-generation sim --cloak-plan --cpus 2 --mem 64M
es1=$(cat "$out")
run "$OWNER" measure --mode seves --vcpu-sig 0x800f12 --kvm-sev-init legacy --cpu-generation sim --cloak-plan --cpus 2 --mem 64M
es2=$(cat "$out")
run "$OWNER" measure --mode sev --cpu-generation sim --cloak-plan --cpus 2 --mem 64M
es3=$(cat "$out")
# measurement build with an ES policy measures the plan's VMSAs: the same blob as from measure's digest.
ESM="--api-major 1 --api-minor 55 --build-id 21 --policy 0x5 --tik $T/tik --nonce $NONCE"
run "$OWNER" measurement build $ESM --cpu-generation sim --cloak-plan --cpus 2 --mem 64M
expect "measurement build with an ES policy needs --vcpu-sig" 2 --err "is SEV-ES" --err "--vcpu-sig"
run "$OWNER" measurement build --api-major 1 --api-minor 55 --build-id 21 --policy 0x1 --tik "$T/tik" --nonce "$NONCE" --vcpu-sig 1 --cpu-generation sim --cloak-plan --mem 64M
expect "measurement build refuses VMSA options with a plain SEV policy" 2 --err "policy with bit 2 (ES)"
run "$OWNER" measurement build $ESM --cpu-generation sim --vcpu-sig 0x800f12 --cloak-plan --cpus 2 --mem 64M
esblob=$(cat "$out")
run "$OWNER" measure --mode seves --vcpu-sig 0x800f12 --cpu-generation sim --output-format base64 --cloak-plan --cpus 2 --mem 64M
run "$OWNER" measurement build $ESM --launch-digest "$(cat "$out")"
if [ -n "$esblob" ] && [ "$esblob" = "$(cat "$out")" ]; then
	ok "measurement build --policy 0x5 --cloak-plan = measurement build --launch-digest (measure --mode seves)"
else
	not_ok "measurement build --policy 0x5 --cloak-plan = measurement build --launch-digest (measure --mode seves)" "[$esblob]"
fi
if [ ${#es1} = 64 ] && [ ${#es2} = 64 ] && [ "$es1" != "$es2" ] && [ "$es1" != "$es3" ]; then
	ok "measure --mode seves --cloak-plan: the VMSAs and KVM's init path are in the digest"
else
	not_ok "measure --mode seves --cloak-plan: the VMSAs and KVM's init path are in the digest" "[$es1] [$es2] [$es3]"
fi
run "$OWNER" measure --mode sev --cloak-plan --mem 64M
expect "measure --cloak-plan needs --cbit" 2 --err "--cbit"
run "$OWNER" measure --mode sev --cbit 51 --cloak-plan --mem 64M
mdigest=$(cat "$out")
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cbit 51 --verbose --cloak-plan --mem 64M
if [ -n "$mdigest" ] && grep -qF "launch digest $mdigest" "$err"; then
	ok "measure --cloak-plan prints the digest measurement build measures"
else
	not_ok "measure --cloak-plan prints the digest measurement build measures" "measure printed '$mdigest'"
fi
# The device options size the measured swiotlb= of a bzImage: the owner takes them as cloak run does, without
# linking any device (owner-links.sh), and only how many devices there are changes the digest.
plan_digest() {  # plan_digest DEVICE-OPTIONS...: the digest of the bzImage test guest's plan with them
	run "$OWNER" measure --mode sev --cbit 51 --cloak-plan --kernel "$G/bzguest.bzImage" "$@"
	[ "$rc" = 0 ] && cat "$out"
}
d1=$(plan_digest --disk "$T/a.img")
d1ro=$(plan_digest --disk "path=$T/b.img,ro=on")
d2=$(plan_digest --disk "$T/a.img" --disk "$T/b.img,ro" --console stdio)
if [ -n "$d1" ] && [ "$d1" = "$d1ro" ] && [ -n "$d2" ] && [ "$d1" != "$d2" ]; then
	ok "measure --cloak-plan takes cloak run's device options; the digest follows the number of devices"
else
	not_ok "measure --cloak-plan takes cloak run's device options; the digest follows the number of devices" \
		"one disk '$d1', one read-only '$d1ro', two and a console '$d2': $(cat "$err")"
fi
run "$OWNER" measure --mode sev --cbit 51 --cloak-plan --net tap=a --net tap=b
expect "measure --cloak-plan counts device options as cloak run does" 2 \
	--err "--cloak-plan: --net: given twice; cloak attaches one network device"
# The C-bit comes from the CPU generation the owner names, never from the host (CLOAK_SEV_CBIT).
run "$OWNER" measure --mode sev --cbit 52 --cloak-plan --mem 64M
expect "the owner refuses a C-bit no AMD generation has" 2 --err "--cbit: '52' is no AMD CPU generation's C-bit" \
	--err "never the value the host reports"
run "$OWNER" measure --mode sev --cpu-generation zen9 --cloak-plan --mem 64M
expect "the owner refuses an unknown CPU generation" 2 --err "--cpu-generation: 'zen9'"
run "$OWNER" measure --mode sev --cpu-generation Milan --cloak-plan --mem 64M
if [ -n "$mdigest" ] && [ "$(cat "$out")" = "$mdigest" ]; then
	ok "--cpu-generation milan gives the digest of C-bit 51"
else
	not_ok "--cpu-generation milan gives the digest of C-bit 51" "$(cat "$out" "$err")"
fi
run "$OWNER" measure --mode sev --cpu-generation rome --cloak-plan --mem 64M
if [ -s "$out" ] && [ "$(cat "$out")" != "$mdigest" ]; then
	ok "--cpu-generation rome (C-bit 47) gives another digest"
else
	not_ok "--cpu-generation rome (C-bit 47) gives another digest" "$(cat "$out" "$err")"
fi
printf 'x' >"$T/short"
run "$OWNER" verify --ark "$T/short" --ask "$T/short" --cek "$T/short" --oca "$T/short" --pek "$T/short"
expect "verify names a missing --pdh" 2 --err "--pdh FILE is needed"
run "$OWNER" verify --ark "$T/short" --ask "$T/short" --cek "$T/pdh.cert" --oca "$T/pdh.cert" --pek "$T/pdh.cert" --pdh "$T/pdh.cert"
expect "verify refuses an ARK that is no certificate" 2 --err "--ark: 1 bytes are too few"
run "$OWNER" verify --ark "$T/short" --ask "$T/short" --cek "$T/short" --oca "$T/pdh.cert" --pek "$T/pdh.cert" --pdh "$T/pdh.cert"
expect "verify names a CEK file of the wrong size" 2 --err "--cek $T/short is 1 bytes"
run "$OWNER" report verify --vcek "$T/short"
expect "report verify needs --ca" 2 --err "--ca PEM is needed"
run "$OWNER" report verify --ca "$T/short" --report "$T/short"
expect "report verify --report needs --vcek" 2 --err "--report needs --vcek"
run "$OWNER" report verify --ca "$T/short"
expect "report verify names a --ca without certificates" 2 --err "--ca $T/short holds 0 PEM certificates"
run "$OWNER" report show --report "$T/short"
expect "report show names a file that is no report" 2 --err "--report $T/short" --err "1184"
run "$OWNER" report frobnicate
expect "report names its subcommands" 2 --err "verify or show"
run "$OWNER" id-block build --launch-digest 00
expect "id-block build needs --id-key" 2 --err "--id-key PEM are needed"
run "$OWNER" id-block build --launch-digest 00 --id-key "$T/short"
expect "id-block build names a short --launch-digest" 2 --err "--launch-digest: '00' is not 96 hex digits"
LD96=$(printf '%096d' 0)
run "$OWNER" id-block build --launch-digest "$LD96" --id-key "$T/short"
expect "id-block build names a file that is no key" 2 --err "--id-key $T/short is not a PEM private key"
run "$OWNER" id-block build --launch-digest "$LD96" --id-key "$T/short" --policy 0x10000
expect "id-block build refuses a policy without bit 17" 2 --err "bit 17"
if command -v openssl >/dev/null; then
	openssl ecparam -name secp384r1 -genkey -noout -out "$T/id.pem" 2>/dev/null
	run "$OWNER" id-block build --launch-digest "$LD96" --id-key "$T/id.pem" --author-key "$T/id.pem"
	blk=$(sed -n 's/^id-block=//p' "$out" | base64 -d 2>/dev/null | wc -c)
	auth=$(sed -n 's/^id-auth=//p' "$out" | base64 -d 2>/dev/null | wc -c)
	if [ "$rc" = 0 ] && [ "$blk" = 96 ] && [ "$auth" = 4096 ] && grep -q '^id-key-digest=[0-9a-f]\{96\}$' "$out" &&
		grep -q '^author-key-digest=[0-9a-f]\{96\}$' "$out"; then
		ok "id-block build prints a 96-byte ID block, a 4096-byte auth block and both key digests"
	else
		not_ok "id-block build prints a 96-byte ID block, a 4096-byte auth block and both key digests" "block $blk, auth $auth"
	fi
	openssl ecparam -name prime256v1 -genkey -noout -out "$T/p256.pem" 2>/dev/null
	run "$OWNER" id-block build --launch-digest "$LD96" --id-key "$T/p256.pem"
	expect "id-block build refuses a P-256 key" 2 --err "--id-key: the key is not an EC P-384 key"
else
	skip "id-block build prints a 96-byte ID block, a 4096-byte auth block and both key digests" "no openssl"
	skip "id-block build refuses a P-256 key" "no openssl"
fi

# sev-snp-measure's published vectors (tests/test_guest.py) through the command line, when the fixtures are here.
S=$FIX/sev-snp-measure
if [ -d "$S" ]; then
	: >"$T/empty"
	E="--kernel $T/empty --initrd $T/empty"
	run "$OWNER" measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$S/ovmf_AmdSev_suffix.bin" $E --append "console=ttyS0 loglevel=7" --guest-features 0x21
	expect "measure: test_snp_default" 0 --out 803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977
	run "$OWNER" measure --mode snp --vcpus 4 --ovmf "$S/ovmf_AmdSev_suffix.bin" $E --append "" --vmm-type gce
	expect "measure: test_snp_gce_with_multiple_vcpus_default" 0 --out 5c5debf100fc339f90276e761ee1f1658d08922c3b20e2a2e6c7a6c3370b2452a15a00eae11886a93d6fd1e7ab81e29d
	run "$OWNER" measure --mode snp --vcpus 1 --vcpu-family 23 --vcpu-model 1 --vcpu-stepping 2 --ovmf "$S/ovmf_AmdSev_suffix.bin" $E --append "" --vmm-type ec2 --guest-features 0x21
	expect "measure: test_snp_ec2_default (signature from family/model/stepping)" 0 --out 0ce9ccc06bab55eebe8abc234f3df6514883977a68a591b71052498ab52b2f1aa415db338033946ef93aa8278c0d67fb
	run "$OWNER" measure --mode seves --vcpus 4 --vcpu-sig 0x800f12 --ovmf "$S/ovmf_AmdSev_suffix.bin" $E --append "" --output-format base64 -v
	expect "measure: test_seves_with_multiple_vcpus, base64, verbose" 0 --out "Calculated SEV_ES guest measurement: $(b64hex 0dccbcaba8e90b261bd0d2e1863a2f9da714768b7b2a19363cd6ae35aa90de91)"
	run "$OWNER" measure --mode sev --ovmf "$S/ovmf_AmdSev_suffix.bin" --kernel "$T/empty"
	expect "measure: test_sev_with_kernel_without_initrd_and_append" 0 --out 77f613d7bbcdf12a73782ea9e88b0172aeda50d1a54201cb903594ff52846898
	run "$OWNER" measure --mode snp:ovmf-hash --ovmf "$S/ovmf_AmdSev_suffix.bin"
	expect "measure: the OVMF hash of test_snp_ovmf_hash_full_default" 0 --out 086e2e9149ebf45abdc3445fba5b2da8270bdbb04094d7a2c37faaa4b24af3aa16aff8c374c2a55c467a50da6d466b74
	run "$OWNER" measure --mode snp --vcpus 1 --vcpu-type EPYC-v4 --ovmf "$S/ovmf_OvmfX64_suffix.bin" $E
	expect "measure refuses a kernel with an OVMF without SNP_KERNEL_HASHES" 2 --err "SNP_KERNEL_HASHES"
	run "$OWNER" measure --mode sev --ovmf "$S/ovmf_OvmfX64_suffix.bin" $E
	expect "measure refuses a kernel with an OVMF without kernel hashes (SEV)" 2 --err "kernel-hashes"
	# --dump-vmsa: the SEV-ES digest is SHA-256 of the image and the dumped VMSAs, in order.
	mkdir "$T/dump"
	want=$(cd "$T/dump" && "$OWNER" measure --mode seves --vcpus 3 --vcpu-type EPYC-Milan --ovmf "$S/ovmf_AmdSev_suffix.bin" --dump-vmsa 2>&1)
	got=$(cat "$S/ovmf_AmdSev_suffix.bin" "$T/dump/vmsa0.bin" "$T/dump/vmsa1.bin" "$T/dump/vmsa2.bin" 2>/dev/null | sha256sum | cut -d' ' -f1)
	if [ "$want" = "$got" ] && [ ! -e "$T/dump/vmsa3.bin" ]; then
		ok "measure --dump-vmsa writes the VMSAs the SEV-ES digest covers"
	else
		not_ok "measure --dump-vmsa writes the VMSAs the SEV-ES digest covers" "digest $want, files hash to $got"
	fi
else
	echo "######## SKIPPED: no fixtures at $FIX; sev-snp-measure's vectors did NOT run ########" >&2
	skip "measure: sev-snp-measure's vectors on the command line" "no fixtures at $FIX"
fi

# ---- the SNP guest policy (--policy under --sev-mode snp; docs/sev-launch.md 6.2) ----
run "$CLOAK" config print --sev --sev-mode snp
expect "snp: the default policy is 0x30000" 0 --out '"policy": "0x30000"'
run "$CLOAK" config print --sev --sev-mode snp --policy 0x20000
expect "snp: --policy 0x20000 (no SMT) is taken" 0 --out '"policy": "0x20000"'
run "$CLOAK" config print --sev --policy 0x1f0001 --sev-mode snp --sev-backend sim
expect "snp: --policy before --sev-mode is read by SNP's rules (ABI bits, SINGLE_SOCKET)" 0 --out '"policy": "0x1f0001"'
run "$CLOAK" config print --sev --sev-mode snp --policy 0x3f30000
expect "snp: the ABI's newer bits 21-25 are known" 0 --out '"policy": "0x3f30000"'
run "$CLOAK" config print --sev --sev-mode snp --policy 0x10000
expect "snp: a policy without bit 17 is refused" 2 --err "bit 17 is reserved and must be 1"
run "$CLOAK" config print --sev --sev-mode snp --policy 0x4030000
expect "snp: reserved bit 26 is refused by name" 2 --err "bit 26 is reserved"
run "$CLOAK" config print --sev --sev-mode snp --policy 0x8000000000030000
expect "snp: reserved bit 63 is refused by name" 2 --err "bit 63 is reserved"
run "$CLOAK" config print --sev --sev-mode snp --policy 0x1000030000
expect "snp: a policy over 32 bits is read as 64" 2 --err "bit 36 is reserved"
run "$CLOAK" config print --sev --sev-mode snp --policy 0xg
expect "snp: a policy that is not hex is refused" 2 --err "not a 64-bit hex number"
run "$CLOAK" config print --sev --policy 0x30004
expect "sev: the same policy is still read by SEV's rules without --sev-mode snp" 2 --err "SEV-ES"
run "$CLOAK" config print --sev --sev-mode snp --policy 0x130000
if [ "$rc" = 0 ] && cp "$out" "$T/snp-config.json" && run "$CLOAK" config print --config "$T/snp-config.json"; then
	expect "snp: a config file keeps the SNP policy" 0 --out '"policy": "0x130000"'
else
	not_ok "snp: a config file keeps the SNP policy" "config print failed"
fi
# A config file's sev.policy is read by its mode's rules like --policy: SNP's ABI-minor bit 2 (which SEV's
# rules call reserved) comes from a file, and a bad one is named by the file's key.
printf '{"sev": {"mode": "snp", "policy": "0x30004", "backend": "sim"}}' >"$T/snp-pol.json"
run "$CLOAK" config print --config "$T/snp-pol.json"
expect "snp: a config file's sev.policy is read by SNP's rules" 0 --out '"policy": "0x30004"'
printf '{"sev": {"mode": "snp", "policy": "0x10000", "backend": "sim"}}' >"$T/snp-pol-bad.json"
run "$CLOAK" config print --config "$T/snp-pol-bad.json"
expect "snp: a config file's bad sev.policy is named by its key" 2 --err 'key "sev.policy"' --err "bit 17 is reserved"
run "$CLOAK" config print --config "$T/snp-pol.json" --policy 0x20000
expect "snp: --policy on the command line replaces the file's" 0 --out '"policy": "0x20000"'
openssl ecparam -name secp384r1 -genkey -noout -out "$T/snp-id.pem" 2>/dev/null
LD48=$(printf '%096d' 0)
run "$OWNER" id-block build --launch-digest "$LD48" --id-key "$T/snp-id.pem" --policy 0x10000
expect "id-block build: a policy without bit 17 is refused" 2 --err "bit 17"
run "$OWNER" id-block build --launch-digest "$LD48" --id-key "$T/snp-id.pem" --policy 0x4030000
expect "id-block build: a reserved policy bit is refused by name" 2 --err "bit 26 is reserved"
run "$OWNER" id-block build --launch-digest "$LD48" --id-key "$T/snp-id.pem" --policy 0x20000
pol=$(sed -n 's/^id-block=//p' "$out" | base64 -d 2>/dev/null | od -An -tx1 -j88 -N8 | tr -d ' \n')
if [ "$rc" = 0 ] && [ "$pol" = 0000020000000000 ]; then
	ok "id-block build puts the launch's policy in the ID block"
else
	not_ok "id-block build puts the launch's policy in the ID block" "policy bytes '$pol'"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
