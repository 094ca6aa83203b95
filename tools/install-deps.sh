#!/bin/sh
# install-deps.sh: installs the Debian 12 packages cloak needs to build and test, when any is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
missing=""
for pkg in $(cat "$here/packages.txt" "$here/nested/packages.txt" | sed 's/#.*//' | sort -u); do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" = 0 ]; then
	sudo=""
elif command -v sudo >/dev/null; then
	sudo="sudo"
else
	echo "install-deps.sh: these packages are missing and this user cannot install them:$missing" >&2
	echo "install-deps.sh: run this script as root, or install them with apt-get" >&2
	exit 1
fi
$sudo apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
