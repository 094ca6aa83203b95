# verifier-e2e.sh: the measured-boot verifier end to end (sourced by e2e.sh, same TAP stream): the demo
# and a stock bzImage boot through it, cloak-owner reproduces the digest, at most 64 KiB is measured, and
# a staged item the host changes after LAUNCH_FINISH is refused with the verifier's message.
# Needs from e2e.sh: CLOAK OWNER T ok not_ok, the session ($T/vm_*) and the platform key ($T/platform.pem).

# The owner's attest command for these exact `cloak run` arguments: verify, inject nothing.
vattest_script() {  # CLOAK-RUN-ARGS...
	{
		printf 'set -e\n"%s" measurement verify --api-major "$CLOAK_SEV_API_MAJOR" ' "$OWNER"
		printf -- '--api-minor "$CLOAK_SEV_API_MINOR" --build-id "$CLOAK_SEV_BUILD" --policy 0x1 '
		printf -- '--tik "%s" --launch-measure-blob "$CLOAK_SEV_MEASUREMENT" --cpu-generation sim --cloak-plan' \
			"$T/owner_tik.bin"
		for a in "$@"; do printf " '%s'" "$a"; done
		printf ' >&2\n'
	} >"$T/vattest.sh"
}

# vrun CLOAK-RUN-ARGS...: a verified simulated SEV launch with the owner's session; sets rc.
vrun() {
	vattest_script --sev "$@"
	rc=0
	timeout -k 10 900 "$CLOAK" run --sev --sev-backend sim --sev-sim-key "$T/platform.pem" --policy 0x1 \
		--dh-cert-file "$T/vm_godh.b64" --session-file "$T/vm_session.b64" --attest-cmd "sh $T/vattest.sh" \
		--timeline "$T/vtl.json" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
}

# The timeline's measured_bytes (0 when absent).
measured() {
	sed -n 's/.*"measured_bytes": \([0-9]*\).*/\1/p' "$T/vtl.json" 2>/dev/null | head -1
}

# booted NAME WANT-STDOUT [MAX-MEASURED]: the launch verified, the guest ran and printed WANT-STDOUT.
booted() {
	m=$(measured)
	if [ "$rc" != 0 ]; then
		not_ok "$1" "exit status $rc, wanted 0"
	elif ! grep -q "measurement matches" "$T/err"; then
		not_ok "$1" "cloak-owner did not reproduce the launch digest"
	elif ! grep -q -- "$2" "$T/out"; then
		not_ok "$1" "stdout lacks: $2"
	elif [ -n "${3:-}" ] && ! [ "${m:-0}" -gt 0 -a "${m:-0}" -le "$3" ]; then
		not_ok "$1" "measured_bytes ${m:-none}, wanted 1..$3"
	else
		ok "$1 (measured_bytes $m)"
	fi
}

# refused NAME ITEM MUST-NOT-SEE: the verifier named ITEM, cloak exited 123, the guest never ran.
refused() {
	if [ "$rc" != 123 ]; then
		not_ok "$1" "exit status $rc, wanted 123 (the verifier's refusal)"
	elif ! grep -q "cloak verifier: the $2 staged at .* does not match the measured table" "$T/out"; then
		not_ok "$1" "no verifier message naming the $2"
	elif grep -q -- "$3" "$T/out"; then
		not_ok "$1" "the guest ran"
	else
		ok "$1"
	fi
}

vrun --mem 64M --cmdline verifier-demo
booted "the demo boots through the verifier; the owner's digest matches" "cloak demo guest" 65536
grep -q "cloak verifier: 2 items match" "$T/out" && grep -q '"measured_boot": "verifier"' "$T/vtl.json" &&
	grep -q '"psp_modelled_us": [0-9]' "$T/vtl.json" &&
	ok "the verifier checked the demo's segment and command line; the timeline says verifier and the PSP model" ||
	not_ok "the verifier checked the demo's segment and command line; the timeline says verifier and the PSP model" \
		"$(grep -i verifier "$T/out"; grep -E 'measured|psp' "$T/vtl.json")"
demo_verifier=$(measured)
vrun --mem 64M --cmdline verifier-demo --measured-boot full
booted "the demo with --measured-boot full; the owner's digest matches" "cloak demo guest"
demo_full=$(measured)
[ "${demo_verifier:-0}" -gt 0 ] && [ "${demo_full:-0}" -gt 0 ] &&
	echo "# demo measured_bytes: verifier $demo_verifier, full $demo_full"
vrun --mem 64M --cmdline verifier-demo --debug-tamper-staged cmdline
refused "a command line changed after LAUNCH_FINISH is refused" "command line" "cloak demo guest"

if [ -f ./bzImage ] && [ -f ./initrd.gz ]; then
	base="console=ttyS0 reboot=k panic=-1 quiet"
	vrun --kernel ./bzImage --initrd ./initrd.gz --mem 512M --cmdline "$base"
	booted "a stock bzImage + initrd boots through the verifier; the owner's digest matches" \
		"cloak-linux: userspace reached" 65536
	sed 's/^/#   /' "$T/vtl.json"
	vrun --kernel ./bzImage --initrd ./initrd.gz --mem 512M --cmdline "$base" --measured-boot full
	booted "the same bzImage with --measured-boot full; the owner's digest matches" "cloak-linux: userspace reached"
	echo "# bzImage measured_bytes with --measured-boot full: $(measured)"
	vrun --kernel ./bzImage --initrd ./initrd.gz --mem 512M --cmdline "$base" --debug-tamper-staged kernel
	refused "a bzImage changed after LAUNCH_FINISH is refused, and cloak exits non-zero" kernel "userspace reached"
	vrun --kernel ./bzImage --initrd ./initrd.gz --mem 512M --cmdline "$base" --debug-tamper-staged initrd
	refused "an initrd changed after LAUNCH_FINISH is refused" initrd "userspace reached"
else
	echo "######## SKIPPED: no bzImage/initrd in the payload; the verifier's bzImage tests did NOT run ########" >&2
	n=$((n + 1)); echo "ok $n - # SKIP the verifier's bzImage tests: no Debian cloud kernel"
fi
