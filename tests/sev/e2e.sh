#!/bin/sh
# e2e.sh: the SEV launch end to end with the simulated PSP: owner session, verified measurement,
# injected secret the guest reads; a tampered kernel, a wrong policy or a wrong TIK never runs.
# usage: e2e.sh CLOAK CLOAK_OWNER DIR   (DIR holds guest.elf, tampered.elf, secret.txt, secret.cksum; needs /dev/kvm)
set -u
CLOAK=$1 OWNER=$2 D=$3
n=0 failed=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/# /'
	sed 's/^/#   stdout: /' "$T/out" | head -20; sed 's/^/#   stderr: /' "$T/err" | head -20
}

GPA=0x30000
ARGS="--kernel $D/guest.elf --cmdline sev-secret=$GPA --mem 64M"

# The platform's PDH (simulated, its key kept in a file) and the owner's session for policy 0x1.
"$CLOAK" sev-export --sev-backend sim --sev-sim-key "$T/platform.pem" "$T/pdh.cert" 2>"$T/err" >"$T/out" ||
	not_ok "sev-export" "cloak sev-export failed"
"$OWNER" session --name "$T/vm" "$T/pdh.cert" 0x1 2>"$T/err" >"$T/out" || not_ok "session" "cloak-owner session failed"
# The secret and its POSIX cksum come from run-e2e.sh: busybox may lack cksum.
cp "$D/secret.txt" "$T/secret.txt"
want=$(cat "$D/secret.cksum")
cp "$T/vm_tik.bin" "$T/owner_tik.bin"
head -c 16 /dev/urandom >"$T/wrong_tik.bin"

# The owner's attest command: verify against the owner's own inputs (guest.elf, policy 0x1, the TIK
# file named), then package the secret for exactly this measurement. Its environment is only PATH and
# the CLOAK_SEV_ variables, so everything else is written into the script.
attest_script() {  # TIKFILE
	cat >"$T/attest.sh" <<EOS
set -e
"$OWNER" measurement verify --api-major "\$CLOAK_SEV_API_MAJOR" --api-minor "\$CLOAK_SEV_API_MINOR" \
	--build-id "\$CLOAK_SEV_BUILD" --policy 0x1 --tik "$T/$1" \
	--launch-measure-blob "\$CLOAK_SEV_MEASUREMENT" --cpu-generation sim --cloak-plan $ARGS >&2
"$OWNER" secret build --tik "$T/vm_tik.bin" --tek "$T/vm_tek.bin" --launch-measure-blob "\$CLOAK_SEV_MEASUREMENT" \
	--secret 736869e5-84f0-4973-92ec-06879ce3da0b:"$T/secret.txt" "$T/hdr" "$T/payload" >&2
echo "SECRET_HEADER=\$(base64 -w0 "$T/hdr")"
echo "SECRET_PAYLOAD=\$(base64 -w0 "$T/payload")"
echo "SECRET_GPA=$GPA"
EOS
}

run() {  # run KERNEL POLICY TIKFILE SESSION(yes|no)
	kernel=$1 policy=$2 tik=$3 session=$4
	attest_script "$tik"
	set -- --sev --sev-backend sim --sev-sim-key "$T/platform.pem" --policy "$policy" \
		--kernel "$D/$kernel" --cmdline "sev-secret=$GPA" --mem 64M \
		--measurement-out "$T/measurement.b64" --attest-cmd "sh $T/attest.sh" --timeline "$T/tl.json"
	[ "$session" = yes ] && set -- "$@" --dh-cert-file "$T/vm_godh.b64" --session-file "$T/vm_session.b64"
	rc=0
	timeout -k 10 600 "$CLOAK" run "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
}

run guest.elf 0x1 owner_tik.bin yes
if [ "$rc" != 0 ]; then
	not_ok "verified launch runs the guest" "exit status $rc, wanted 0"
elif ! grep -q "NOT encrypted" "$T/err"; then
	not_ok "verified launch runs the guest" "no 'memory is NOT encrypted' warning"
elif ! grep -q "measurement matches" "$T/err"; then
	not_ok "verified launch runs the guest" "the attest command did not verify"
elif ! grep -q "cksum $want\$" "$T/out"; then
	not_ok "verified launch runs the guest" "the guest did not print the secret's cksum $want"
elif ! [ -s "$T/measurement.b64" ]; then
	not_ok "verified launch runs the guest" "no --measurement-out file"
else
	ok "verified launch: the guest reads the injected secret (cksum $want)"
fi
if grep -q '"sev": true' "$T/tl.json" && grep -q '"sev_launch_start": [0-9]' "$T/tl.json" &&
	grep -q '"sev_launch_update": [0-9]' "$T/tl.json" && grep -q '"sev_launch_finish": [0-9]' "$T/tl.json"; then
	ok "the timeline has the SEV launch phases"
	sed 's/^/#   /' "$T/tl.json"
else
	not_ok "the timeline has the SEV launch phases" "$(cat "$T/tl.json" 2>/dev/null)"
fi
# The simulator's strict memory rules (the default) were on, and the guest kept them.
if [ -z "${CLOAK_SIM_MEMORY:-}" ] && grep -q '"sev_violations": 0' "$T/tl.json"; then
	ok "strict memory rules: no C=0 access to private memory"
else
	not_ok "strict memory rules: no C=0 access to private memory" "CLOAK_SIM_MEMORY=${CLOAK_SIM_MEMORY:-} $(grep sev_violations "$T/tl.json")"
fi

never_ran() {  # NAME EXPECTED-STDERR
	if [ "$rc" != 2 ]; then
		not_ok "$1" "exit status $rc, wanted 2"
	elif grep -q "cloak sev secret guest" "$T/out"; then
		not_ok "$1" "the guest ran"
	elif ! grep -q -- "$2" "$T/err"; then
		not_ok "$1" "stderr lacks: $2"
	else
		ok "$1"
	fi
}

run tampered.elf 0x1 owner_tik.bin yes
never_ran "a tampered kernel fails verification and never runs" "measurement does NOT match"
run guest.elf 0x3 owner_tik.bin yes
never_ran "a wrong policy with the owner's session fails LAUNCH_START" "BAD_MEASUREMENT"
run guest.elf 0x3 owner_tik.bin no
never_ran "a wrong policy fails verification and never runs" "never ran"
run guest.elf 0x1 wrong_tik.bin yes
never_ran "a wrong TIK fails verification and never runs" "measurement does NOT match"

# The attest command runs without privileges: no capabilities in any set, no_new_privs, no descriptor
# cloak inherited, none of cloak's environment. It reports what it has and refuses the launch.
rc=0
CLOAK_TEST_INHERITED=1 timeout -k 10 600 "$CLOAK" run --sev --sev-backend sim --sev-sim-key "$T/platform.pem" $ARGS \
	--attest-cmd "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status >$T/status; ls -l /proc/self/fd >$T/fds; env >$T/env; exit 3" \
	>"$T/out" 2>"$T/err" </dev/null 7>"$T/leaked-fd" || rc=$?
bad=""
[ "$rc" = 2 ] || bad="exit status $rc, wanted 2;"
for s in CapInh CapPrm CapEff CapBnd; do
	grep -q "^$s:[[:space:]]*0000000000000000\$" "$T/status" 2>/dev/null || bad="$bad $s not empty;"
done
grep -q '^CapAmb:' "$T/status" 2>/dev/null && ! grep -q '^CapAmb:[[:space:]]*0000000000000000$' "$T/status" && bad="$bad CapAmb not empty;"
grep -q '^NoNewPrivs:[[:space:]]*1$' "$T/status" 2>/dev/null || bad="$bad no_new_privs off;"
grep -q leaked-fd "$T/fds" 2>/dev/null && bad="$bad an inherited fd reached it;"
grep -q ' 0 -> /dev/null' "$T/fds" 2>/dev/null || bad="$bad stdin is not /dev/null;"
grep -qx 'PATH=/usr/bin:/bin' "$T/env" 2>/dev/null || bad="$bad PATH is not /usr/bin:/bin;"
grep -q '^CLOAK_SEV_MEASUREMENT=' "$T/env" 2>/dev/null || bad="$bad no CLOAK_SEV_MEASUREMENT;"
extra=$(grep -v -E '^(CLOAK_SEV_[A-Z_]*|PATH|PWD|OLDPWD|SHLVL|_)=' "$T/env" 2>/dev/null | cut -d= -f1 | tr '\n' ' ')
[ -n "$extra" ] && bad="$bad cloak's environment leaked: $extra;"
if [ -z "$bad" ]; then
	ok "the attest command runs with no capabilities, no_new_privs, fds 0-2 only and a minimal environment"
else
	not_ok "the attest command runs with no capabilities, no_new_privs, fds 0-2 only and a minimal environment" "$bad"
	sed 's/^/#   /' "$T/status" "$T/fds" "$T/env" 2>/dev/null
fi

# SEV-ES: the demo launched with its VMSAs measured, on both of the simulated KVM's paths (6.1:
# KVM_SEV_ES_INIT; 6.10+: KVM_SEV_INIT2 with DebugSwap and the x87/SSE state). --measurement-out must
# equal the digest cloak-owner computes on its own from the same `cloak run` arguments and the vCPU
# signature this host's /proc/cpuinfo gives, and the timeline's owner_command must print it too.
cpuinfo() { grep -m1 "^$1[[:space:]]*:" /proc/cpuinfo | sed 's/.*:[[:space:]]*//'; }
fam=$(cpuinfo "cpu family") model=$(cpuinfo model) step=$(cpuinfo stepping)
ES_ARGS="--cpus 2 --mem 64M --cmdline es-demo"
"$OWNER" session --name "$T/es" "$T/pdh.cert" 0x5 2>"$T/err" >"$T/out" || not_ok "SEV-ES session" "cloak-owner session 0x5 failed"
es_run() {  # es_run NAME VM_TYPES(0|1) INIT(legacy|init2) FEATURES
	name=$1
	rm -f "$T/es.hex" "$T/es-tl.json"
	owner_es="--mode seves --cpu-generation sim --vcpu-family $fam --vcpu-model $model --vcpu-stepping $step \
--kvm-sev-init $3 --guest-features $4"
	# The owner's check of MEASURE with the session's TIK, against the digest it computes itself.
	cat >"$T/es-attest.sh" <<EOS
set -e
d=\$("$OWNER" measure $owner_es --output-format base64 --cloak-plan --sev --sev-mode es $ES_ARGS)
"$OWNER" measurement verify --api-major "\$CLOAK_SEV_API_MAJOR" --api-minor "\$CLOAK_SEV_API_MINOR" \
	--build-id "\$CLOAK_SEV_BUILD" --policy 0x5 --tik "$T/es_tik.bin" \
	--launch-measure-blob "\$CLOAK_SEV_MEASUREMENT" --launch-digest "\$d" >&2
EOS
	rc=0
	CLOAK_SEV_SIM_VM_TYPES=$2 timeout -k 10 600 "$CLOAK" run --sev --sev-mode es --sev-backend sim \
		--sev-sim-key "$T/platform.pem" $ES_ARGS --dh-cert-file "$T/es_godh.b64" \
		--session-file "$T/es_session.b64" --attest-cmd "sh $T/es-attest.sh" \
		--measurement-out "$T/es.hex" --timeline "$T/es-tl.json" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	want=$("$OWNER" measure $owner_es --cloak-plan --sev --sev-mode es $ES_ARGS 2>>"$T/err")
	cmd=$(sed -n 's/^ *"owner_command": "\(.*\)",$/\1/p' "$T/es-tl.json" 2>/dev/null)
	again=$(cd "$T" && PATH="$OLDPWD:$PATH" sh -c "$cmd" 2>>"$T/err")
	got=$(cat "$T/es.hex" 2>/dev/null)
	if [ "$rc" != 0 ]; then
		not_ok "$name" "exit status $rc, wanted 0"
	elif ! grep -q "SEV-ES: active (SEV_STATUS 0x3), C-bit 39; #VC handler installed, idle: " "$T/out"; then
		not_ok "$name" "the demo did not see SEV-ES (and its #VC handler idle under the simulator)"
	elif ! grep -q "registers are NOT encrypted" "$T/err"; then
		not_ok "$name" "no warning that the simulated ES guest runs as a plain guest"
	elif ! grep -q "measurement matches" "$T/err"; then
		not_ok "$name" "the simulated firmware's MEASURE (over the VMSAs it read from KVM) did not verify"
	elif [ -z "$want" ] || [ "$got" != "$want" ]; then
		not_ok "$name" "--measurement-out [$got], cloak-owner measure [$want]"
	elif [ "$again" != "$want" ]; then
		not_ok "$name" "owner_command [$cmd] printed [$again], wanted [$want]"
	elif ! grep -q '"sev_launch_update_vmsa": [0-9]' "$T/es-tl.json"; then
		not_ok "$name" "the timeline lacks the sev_launch_update_vmsa phase"
	else
		ok "$name: MEASURE verified; --measurement-out $got = cloak-owner measure = the timeline's owner_command"
		echo "#   owner_command: $cmd"
	fi
}
es_run "SEV-ES on a 6.1 KVM (KVM_SEV_ES_INIT), 2 vCPUs" 0 legacy 0
es_run "SEV-ES on a 6.10+ KVM (KVM_SEV_INIT2, DebugSwap), 2 vCPUs" 1 init2 0x20
# The simulator measured the VMSAs it read back from KVM: the owner's digest of another host's
# vCPU signature must not match.
other=$("$OWNER" measure --mode seves --cpu-generation sim --vcpu-sig 0x1 --kvm-sev-init init2 \
	--guest-features 0x20 --cloak-plan --sev --sev-mode es $ES_ARGS 2>/dev/null)
if [ -n "$other" ] && [ "$other" != "$(cat "$T/es.hex" 2>/dev/null)" ]; then
	ok "SEV-ES: another vCPU signature gives another digest"
else
	not_ok "SEV-ES: another vCPU signature gives another digest" "$other"
fi

# The measured-boot verifier (--measured-boot verifier, the default): its own file, same TAP stream.
. ./verifier-e2e.sh

echo "1..$n"
[ "$failed" -eq 0 ]
