#!/bin/sh
# cli-suite.sh: the SEV command line without KVM: cloak's clear refusals, host-check, sev-export,
# and cloak-owner against published vectors and the openssl command line.
# usage: cli-suite.sh CLOAK CLOAK_OWNER FIXTURES_DIR GUEST_DIR   (GUEST_DIR holds the built tests/guests files)
set -u
CLOAK=$1 OWNER=$2 FIX=$3 G=$4
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
out=$T/out err=$T/err

run() { rc=0; "$@" >"$out" 2>"$err" </dev/null || rc=$?; }
ok() { n=$((n + 1)); echo "ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; echo "# $2"
	sed 's/^/#   stdout: /' "$out" | head -20; sed 's/^/#   stderr: /' "$err" | head -20; echo "#   exit status: $rc"
}
# expect NAME STATUS [--out TEXT] [--err TEXT]...
expect() {
	name=$1 want=$2
	shift 2
	if [ "$rc" != "$want" ]; then not_ok "$name" "exit status $rc, wanted $want"; return; fi
	while [ $# -gt 0 ]; do
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
run "$CLOAK" host-check --bogus
expect "host-check refuses unknown options" 2 --err "unknown option --bogus"
run "$CLOAK" run --sev --policy 0x40
expect "reserved policy bits are refused before any ioctl" 2 --err "bits 6-15" --err "reserved"
run "$CLOAK" run --sev --policy 0x4
expect "an SEV-ES policy is refused" 2 --err "SEV-ES"
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
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cbit 52 --verbose --cloak-plan --mem 64M
expect "--cloak-plan measures cloak's own plan of the demo guest" 0 --err "bytes measured in all" --err "page tables"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cbit 52 --cloak-plan --kernel "$T/none"
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
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cbit 52 --cloak-plan --kernel "$G/pvh.elf"
expect "cloak-owner --cloak-plan refuses the PVH entry as cloak does" 2 --err "Xen PVH note" --err "bzImage"
run "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/tik" --nonce "$NONCE" --cbit 52 --cloak-plan --kernel "$G/bzguest.bzImage"
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
run timeout 20 "$CLOAK" run --sev --sev-backend sim --dh-cert-file "$T/fifo" --session-file "$T/vm_session.b64"
expect "a FIFO as --dh-cert-file is refused" 2 --err "--dh-cert-file $T/fifo is a FIFO, not a regular file"
run timeout 20 "$CLOAK" run --sev --sev-backend sim --dh-cert-file "$T/vm_godh.b64" --session-file "$T/fifo"
expect "a FIFO as --session-file is refused" 2 --err "--session-file $T/fifo is a FIFO, not a regular file"
run timeout 20 "$CLOAK" run --sev --sev-backend sim --dh-cert-file "$T" --session-file "$T/vm_session.b64"
expect "a directory as --dh-cert-file is refused" 2 --err "--dh-cert-file $T is a directory"
run timeout 20 "$CLOAK" sev-export --sev-backend sim --sev-sim-key "$T/fifo" "$T/pdh-out"
expect "a FIFO as --sev-sim-key is refused" 2 --err "--sev-sim-key $T/fifo is a FIFO, not a regular file"
run timeout 20 "$OWNER" session --name "$T/vm4" "$T/fifo" 0x1
expect "a FIFO as the owner's PDH certificate is refused" 2 --err "PDH certificate $T/fifo is a FIFO"
run timeout 20 "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik "$T/fifo" --launch-digest "$LD" --nonce "$NONCE"
expect "a FIFO as the owner's --tik is refused" 2 --err "$T/fifo is a FIFO"
run timeout 20 "$OWNER" measurement build --api-major 0 --api-minor 18 --build-id 15 --policy 0 --tik /dev/zero --launch-digest "$LD" --nonce "$NONCE"
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

echo "1..$n"
[ "$failed" -eq 0 ]
