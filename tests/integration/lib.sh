# lib.sh: TAP helpers shared by the integration suites (POSIX sh, works under busybox).
# Each case runs cloak, captures stdout, stderr and the exit status, and checks them.

tap_n=0
tap_failed=0
tap_tmp=${TMPDIR:-/tmp}/cloak-it.$$
mkdir -p "$tap_tmp"
trap 'rm -rf "$tap_tmp"' EXIT

# run_cloak [--stdin FILE] ARGS...: sets $out, $err (file paths) and $rc.
run_cloak() {
	in=/dev/null
	if [ "$1" = "--stdin" ]; then in=$2; shift 2; fi
	out=$tap_tmp/out.$tap_n
	err=$tap_tmp/err.$tap_n
	rc=0
	timeout -k 10 "${CLOAK_CASE_TIMEOUT:-120}" "$CLOAK" "$@" <"$in" >"$out" 2>"$err" || rc=$?
}

# check NAME COND...: one TAP line; on failure, show what cloak printed.
ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	# Every line of the reason is a TAP comment: a bare second line would break the stream for meson.
	printf '%s\n' "$*" | sed 's/^/# /'
	[ -f "$out" ] && sed "s/^/#   stdout: /" "$out" | tail -25
	[ -f "$err" ] && sed "s/^/#   stderr: /" "$err" | tail -25
	echo "#   exit status: $rc"
}

# expect NAME STATUS [--out TEXT]... [--err TEXT]...: checks the last run_cloak.
expect() {
	name=$1 want=$2
	shift 2
	if [ "$rc" != "$want" ]; then
		not_ok "$name" "exit status $rc, wanted $want"
		return
	fi
	while [ $# -gt 0 ]; do
		case $1 in
		--out) f=$out ;;
		--err) f=$err ;;
		*) not_ok "$name" "bad expect argument $1"; return ;;
		esac
		if ! grep -qF -- "$2" "$f"; then
			not_ok "$name" "${1#--} lacks: $2"
			return
		fi
		shift 2
	done
	ok "$name"
}

# require_kvm NAME: a suite run by hand where KVM is missing skips loudly instead of failing.
require_kvm() {
	if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ]; then
		echo "######## SKIPPED: no usable /dev/kvm here; the $1 tests did NOT run ########" >&2
		echo "1..0 # SKIP no usable /dev/kvm"
		exit 0  # meson 1.0 reads "1..0 # SKIP" as skipped; status 77 would be an error for TAP
	fi
}

tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# tasks_confined PID [UID]: every thread of PID holds no capability (effective, permitted, bounding), has
# no_new_privs and a seccomp filter (and runs as UID on all four ids). Sets $tasks (how many threads) and
# $task_bad (one line per thread that is not confined).
tasks_confined() {
	tasks=0 task_bad=""
	for st in /proc/"$1"/task/*/status; do
		[ -r "$st" ] || continue
		tasks=$((tasks + 1))
		bad=$(awk -v uid="${2:-}" -v task="$st" '
			/^Name:/ { n = $2 } /^Uid:/ { u = $2 " " $3 " " $4 " " $5 } /^CapPrm:/ { p = $2 }
			/^CapEff:/ { e = $2 } /^CapBnd:/ { b = $2 } /^NoNewPrivs:/ { nn = $2 } /^Seccomp:/ { sc = $2 }
			END {
				z = "0000000000000000"
				ok = p == z && e == z && b == z && nn == "1" && sc == "2"
				if (uid != "" && u != uid " " uid " " uid " " uid) ok = 0
				if (!ok) printf "%s (%s): Uid %s CapPrm %s CapEff %s CapBnd %s NoNewPrivs %s Seccomp %s\n",
					n, task, u, p, e, b, nn, sc
			}' "$st")
		[ -n "$bad" ] && task_bad="$task_bad$bad; "
	done
	[ -z "$task_bad" ] && [ "$tasks" -gt 0 ]
}
