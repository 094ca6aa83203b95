#!/bin/sh
# install-deps.sh: installs the Debian 12 packages cloak needs to build and test, when any is missing.
#
# A line of packages.txt may be a glob (linux-headers-6.12.*+deb12-common): Debian renames such packages
# with each kernel update, so any installed match satisfies it, and otherwise the newest match apt knows
# is installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" = 0 ]; then
	sudo=""
elif command -v sudo >/dev/null; then
	sudo="sudo"
else
	sudo="none"
fi
updated=""
apt_update() {
	[ -n "$updated" ] && return 0
	[ "$sudo" = none ] && return 0
	$sudo apt-get update -q
	updated=1
}

# The newest package apt knows whose whole name matches the glob $1.
newest_match() {
	regex=$(printf '%s' "$1" | sed 's/[.+]/\\&/g; s/\*/.*/g')
	apt-cache pkgnames "${1%%\**}" 2>/dev/null | grep -x -- "$regex" | sort -V | tail -n 1
}

installed() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$1" 2>/dev/null | grep -q '^ii '
}

set -f  # the globs in packages.txt are apt's to match, not the shell's
missing=""
for pkg in $(cat "$here/packages.txt" "$here/nested/packages.txt" | sed 's/#.*//' | sort -u); do
	installed "$pkg" && continue
	case $pkg in
	*'*'*)
		name=$(newest_match "$pkg")
		if [ -z "$name" ]; then
			apt_update
			name=$(newest_match "$pkg")
		fi
		if [ -z "$name" ]; then
			echo "install-deps.sh: no package named like $pkg is known to apt (apt-get update; is bookworm-updates in the sources?)" >&2
			exit 1
		fi
		missing="$missing $name"
		;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$sudo" = none ]; then
	echo "install-deps.sh: these packages are missing and this user cannot install them:$missing" >&2
	echo "install-deps.sh: run this script as root, or install them with apt-get" >&2
	exit 1
fi
apt_update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
