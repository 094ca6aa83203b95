#!/bin/bash
# Runs a command inside a QEMU TCG guest with nested SVM, where /dev/kvm works, for hosts without /dev/kvm.
#
# Usage: run-nested.sh [--mem MIB] [--smp N] [--timeout SECS] [--modules "m1 m2"]
#                      --payload DIR -- COMMAND [ARGS...]
# Environment: NESTED_KERNEL (bzImage; default newest /boot/vmlinuz-*-cloud-amd64),
#              NESTED_MODULES_DIR (default /lib/modules/<version of NESTED_KERNEL>),
#              NESTED_WORKDIR (build/cache dir; default a temporary dir removed at exit),
#              NESTED_QEMU (default qemu-system-x86_64), NESTED_CPU (default EPYC,+svm,+npt),
#              NESTED_APPEND (extra guest kernel arguments), NESTED_KEEP_LOGS=1 (keep the logs on success too),
#              NESTED_VERBOSE=1 (print initramfs build and guest run times on stderr).
# Exit status: COMMAND's, or 125 when the guest itself failed (boot, kvm_amd, timeout).
set -eu

prog=${0##*/}
mem=2048
smp=1
tmo=1200
extra_modules=
payload=

die() {
	echo "$prog: $*" >&2
	exit 125
}

usage() {
	sed -n '/^# Usage:/,/^# Exit status:/s/^# \{0,1\}//p' "$0" >&2
	exit "${1:-125}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
	--smp) [ $# -ge 2 ] || usage; smp=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; tmo=$2; shift 2 ;;
	--modules) [ $# -ge 2 ] || usage; extra_modules="$extra_modules $2"; shift 2 ;;
	--payload) [ $# -ge 2 ] || usage; payload=$2; shift 2 ;;
	--) shift; break ;;
	-h|--help) usage 0 ;;
	*) echo "$prog: unknown option '$1'" >&2; usage ;;
	esac
done
[ $# -ge 1 ] || { echo "$prog: no COMMAND given" >&2; usage; }
[ -n "$payload" ] || { echo "$prog: --payload DIR is required" >&2; usage; }
[ -d "$payload" ] || die "payload '$payload' is not a directory"
case $mem$smp$tmo in *[!0-9]*) die "--mem, --smp and --timeout take plain numbers" ;; esac

qemu=${NESTED_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null || die "$qemu not found (Debian package qemu-system-x86)"
command -v cpio >/dev/null || die "cpio not found (Debian package cpio)"
command -v setpriv >/dev/null || die "setpriv not found (Debian package util-linux)"
busybox=$(command -v busybox) || die "busybox not found (Debian package busybox-static)"
# A dynamically linked busybox would need its libraries too; the static one is what we ship.
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install busybox-static"
fi

if [ -n "${NESTED_KERNEL:-}" ]; then
	kernel=$NESTED_KERNEL
else
	kernel=$(printf '%s\n' /boot/vmlinuz-*-cloud-amd64 | grep -v '\*' | sort -V | tail -n 1)
	[ -n "$kernel" ] || die "no /boot/vmlinuz-*-cloud-amd64 (Debian package linux-image-cloud-amd64); set NESTED_KERNEL"
fi
[ -r "$kernel" ] || die "kernel '$kernel' not readable"
kver=${kernel##*/vmlinuz-}
moddir=${NESTED_MODULES_DIR:-/lib/modules/$kver}
[ -r "$moddir/modules.dep" ] || die "no $moddir/modules.dep for kernel $kernel; set NESTED_MODULES_DIR"

if [ -n "${NESTED_WORKDIR:-}" ]; then
	work=$NESTED_WORKDIR
	mkdir -p "$work"
	own_work=
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/run-nested.XXXXXX")
	own_work=1
fi
work=$(cd "$work" && pwd)
run=$work/run.$$
klog=$work/console.$$.log
qlog=$work/qemu.$$.log
keep_logs=${NESTED_KEEP_LOGS:-}
qpid=
fpid=
# Stops QEMU (through its timeout, which passes the TERM on) and the output filter, waiting up to 5 s
# before SIGKILL. Only our own children are signalled: the process group may be our caller's too.
# shellcheck disable=SC2317  # called through the EXIT trap
stop_qemu() {
	local p i
	for p in $qpid $fpid; do
		kill "$p" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	qpid= fpid=
}
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
	stop_qemu
	rm -rf "$run"
	if [ -n "$own_work" ]; then
		if [ -n "$keep_logs" ]; then
			# Failed runs leave only the logs behind so they can be read later.
			find "$work" -mindepth 1 -maxdepth 1 ! -name '*.log' -exec rm -rf {} +
		else
			rm -rf "$work"
		fi
	elif [ -z "$keep_logs" ]; then
		rm -f "$klog" "$qlog"
	fi
}
trap cleanup EXIT
trap 'echo "$prog: interrupted by a signal" >&2; exit 125' INT TERM HUP
mkdir -p "$run"

# --- modules: resolve names to files and order them so dependencies load first.
# Sets $n to the canonical name of module file or name $1 (no fork: called per modules.dep line).
modname() {
	n=${1##*/}
	n=${n%%.ko*}
	n=${n//-/_}
}
declare -A mod_path=() mod_deps=() mod_done=()
while IFS= read -r line; do
	p=${line%%:*}
	modname "$p"
	mod_path[$n]=$p
	mod_deps[$n]=${line#*:}
done <"$moddir/modules.dep"
mod_order=()
add_module() {
	local n
	modname "$1"
	[ -z "${mod_done[$n]:-}" ] || return 0
	if [ -z "${mod_path[$n]:-}" ]; then
		if grep -q "/${n//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
			mod_done[$n]=1
			return 0
		fi
		die "module '$1' not found in $moddir/modules.dep"
	fi
	mod_done[$n]=1
	# modules.dep lists the full closure with the deepest dependency last.
	local deps
	read -r -a deps <<<"${mod_deps[$n]}"
	local i
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		add_module "${deps[$i]}"
	done
	mod_order+=("${mod_path[$n]}")
}
for m in irqbypass kvm kvm_amd $extra_modules; do
	add_module "$m"
done

# --- base initramfs: busybox, modules, init. Cached by its inputs.
key=$({
	echo "$kernel $moddir ${mod_order[*]}"
	cksum <"$busybox"
	cksum <"$0"
	for p in "${mod_order[@]}"; do cksum <"$moddir/$p"; done
} | cksum | tr ' ' '-')
base=$work/base-$key.cpio

elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}
t0=$(date +%s.%N)
if [ ! -s "$base" ]; then
	st=$run/base
	mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,root,payload,lib/modules,var/tmp,run}
	cp "$busybox" "$st/bin/busybox"
	# Applet links are made by the guest's init (busybox --install): one ln fork per applet here costs ~1 s.
	ln -s busybox "$st/bin/sh"
	: >"$st/lib/modules/order"
	for p in "${mod_order[@]}"; do
		b=${p##*/}
		case $b in
		*.ko) cp "$moddir/$p" "$st/lib/modules/$b" ;;
		*.ko.xz) xz -dc "$moddir/$p" >"$st/lib/modules/${b%.xz}"; b=${b%.xz} ;;
		*.ko.zst) zstd -qdc "$moddir/$p" >"$st/lib/modules/${b%.zst}"; b=${b%.zst} ;;
		*.ko.gz) gzip -dc "$moddir/$p" >"$st/lib/modules/${b%.gz}"; b=${b%.gz} ;;
		*) die "unknown module file type: $p" ;;
		esac
		echo "$b" >>"$st/lib/modules/order"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$st/etc/passwd"
	echo 'root:x:0:' >"$st/etc/group"
	cat >"$st/init" <<'EOF'
#!/bin/sh
# PID 1 of the run-nested.sh guest: load KVM, run the command on ttyS1, report its status, power off.
# TERM=dumb: the command's output is a serial tty, and colour codes would only clutter CI logs.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp TERM=dumb
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
exec </dev/null >/dev/console 2>&1
out=/dev/ttyS1
nonce=$(cat /run-nested/nonce)
# Raw output so bytes reach the host exactly as written (no CR insertion).
stty -F $out raw -echo
report() {
	kill -9 -1 2>/dev/null
	printf '\n%s %s\n' "$nonce" "$*" >$out
	# stty sets modes with TCSADRAIN, so the marker has left the UART before power-off.
	stty -F $out raw -echo
	poweroff -f
	echo o >/proc/sysrq-trigger
}
ip link set lo up 2>/dev/null
fail=
while read -r m; do
	echo "run-nested: insmod $m"
	insmod /lib/modules/$m || fail="$fail $m"
done </lib/modules/order
if [ ! -c /dev/kvm ]; then
	echo "run-nested: /dev/kvm did not appear (failed insmod:${fail:- none})"
	dmesg | grep -i -E 'kvm|svm' | tail -n 20
	report FAIL "kvm_amd did not come up, /dev/kvm missing (failed insmod:${fail:- none})"
fi
[ -z "$fail" ] || echo "run-nested: warning: failed insmod:$fail"
echo "run-nested: /dev/kvm ready, running command"
cd /payload
sh /run-nested/cmd </dev/null >$out 2>&1
status=$?
echo "run-nested: command exited with $status"
report EXIT $status
EOF
	chmod 755 "$st/init"
	(cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$base.tmp.$$"
	mv "$base.tmp.$$" "$base"
	# Old cache entries from other inputs are just disk waste.
	find "$work" -maxdepth 1 -name 'base-*.cpio' ! -name "${base##*/}" -delete
fi

# --- per-run part: payload, the libraries its ELF files need, the command.
st=$run/payload
mkdir -p "$st/payload" "$st/run-nested"
cp -a "$payload/." "$st/payload/"
is_elf() {
	[ -f "$1" ] && [ "$(od -An -tx1 -N4 "$1" 2>/dev/null | tr -d ' \n')" = 7f454c46 ]
}
declare -A libs=()
# Libraries a program opens itself (dlopen by soname, as cloak does libcrypto) are not in ldd's list: the
# sonames written in the program that this host's loader knows are taken too, with what they need.
dlopened() {
	local so path
	for so in $(grep -aoE 'lib[A-Za-z0-9_+-]+\.so\.[0-9]+' "$1" | sort -u); do
		path=$(ldconfig -p 2>/dev/null | awk -v so="$so" '$1 == so && /x86-64/ { print $NF; exit }')
		[ -z "$path" ] || echo "$path"
	done
}
while IFS= read -r -d '' f; do
	is_elf "$f" || continue
	# ldd fails on static and non-executable ELF files; they need nothing.
	out=$(ldd "$f" 2>/dev/null) || continue
	for l in $(dlopened "$f"); do
		libs[$l]=1
		out=$out$'\n'$(ldd "$l" 2>/dev/null)
	done
	while read -r a b c _; do
		if [ "$b" = '=>' ]; then
			case $c in
			/*) libs[$c]=1 ;;
			not) die "$f needs $a, which ldd cannot find on the host" ;;
			esac
		else
			case $a in /*) libs[$a]=1 ;; esac
		fi
	done <<<"$out"
done < <(find "$payload" -type f -print0)
for l in "${!libs[@]}"; do
	mkdir -p "$st${l%/*}"
	cp -L "$l" "$st$l"
done
# The host's loader cache, so that programs find their libraries as they do on a host (without it the
# loader probes a dozen directories per library, which is most of a launch's system calls here).
if [ ${#libs[@]} -gt 0 ] && [ -r /etc/ld.so.cache ]; then
	mkdir -p "$st/etc"
	cp /etc/ld.so.cache "$st/etc/"
fi
nonce=RUN-NESTED-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
echo "$nonce" >"$st/run-nested/nonce"
{
	printf 'exec'
	for a in "$@"; do
		printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"
	done
	printf '\n'
} >"$st/run-nested/cmd"
initrd=$run/initrd.cpio
(cd "$st" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$run/payload.cpio"
cat "$base" "$run/payload.cpio" >"$initrd"
t1=$(date +%s.%N)
[ -z "${NESTED_VERBOSE:-}" ] || echo "$prog: initramfs ready in $(elapsed "$t0" "$t1") s ($(du -h "$initrd" | cut -f1))" >&2

# --- boot. Kernel console goes to a file on ttyS0; the command's output comes back on ttyS1.
status_file=$run/status
filter() {
	local held='' line
	while IFS= read -r line || [ -n "$line" ]; do
		# A command that resets the tty modes (stty sane) brings back CR before LF.
		line=${line%$'\r'}
		case $line in
		"$nonce EXIT "*)
			echo "${line#"$nonce EXIT "}" >"$status_file"
			held=
			continue
			;;
		"$nonce FAIL "*)
			echo "FAIL ${line#"$nonce FAIL "}" >"$status_file"
			held=
			continue
			;;
		esac
		# The guest puts a newline before its marker; drop it if the marker follows.
		[ -z "$held" ] || printf '\n'
		if [ -z "$line" ]; then
			held=1
		else
			held=
			printf '%s\n' "$line"
		fi
	done
	[ -z "$held" ] || printf '\n'
}
# Background jobs rather than a pipeline, so that a signal to this script can stop QEMU too.
# QEMU must never outlive this script, however it ends (issue: a caller's timeout left QEMU running
# for minutes):
# - timeout --foreground stays in our process group, so a signal to the group (meson's timeout,
#   a terminal's ^C) reaches QEMU as well; without it timeout makes a group of its own;
# - each setpriv --pdeathsig KILL makes the next process die with its parent: timeout with this
#   script, QEMU with timeout. That covers a SIGKILL to this script, where no trap runs;
# - the traps stop QEMU on INT, TERM and HUP, and at every exit.
mkfifo "$run/out"
filter <"$run/out" &
fpid=$!
set +e
setpriv --pdeathsig KILL timeout --foreground -k 10 "$tmo" setpriv --pdeathsig KILL "$qemu" \
	-accel tcg -cpu "${NESTED_CPU:-EPYC,+svm,+npt}" -m "$mem" -smp "$smp" \
	-nographic -nodefaults -no-user-config -no-reboot \
	-monitor none \
	-serial "file:$klog" -serial stdio \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0,115200 rdinit=/init panic=-1 8250.nr_uarts=2 mitigations=off ${NESTED_APPEND:-}" \
	</dev/null 2>"$qlog" >"$run/out" &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
wait "$fpid"
fpid=
set -e
t2=$(date +%s.%N)
[ -z "${NESTED_VERBOSE:-}" ] || echo "$prog: guest ran for $(elapsed "$t1" "$t2") s" >&2

fail() {
	keep_logs=1
	echo "$prog: FAILED: $*; kernel log: $klog, qemu log: $qlog" >&2
	# TCG's warnings about CPUID bits of the EPYC model it cannot emulate are always there and harmless.
	if grep -v "TCG doesn't support requested feature" "$qlog" >"$run/qlog.short" 2>/dev/null && [ -s "$run/qlog.short" ]; then
		echo "$prog: --- last lines of $qlog ---" >&2
		tail -n 10 "$run/qlog.short" >&2
	fi
	echo "$prog: --- last 30 lines of $klog ---" >&2
	tail -n 30 "$klog" 2>/dev/null | tr -d '\r' >&2
	exit 125
}
st=
[ ! -s "$status_file" ] || st=$(cat "$status_file")
case $st in
FAIL*) fail "${st#FAIL }" ;;
'')
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		fail "timed out after $tmo s without the command finishing"
	fi
	fail "guest stopped without reporting the command's status (qemu exit $qrc; kernel panic or boot failure?)"
	;;
*[!0-9]*) fail "garbled status '$st' from guest" ;;
esac
exit "$st"
