#!/bin/sh
# extract-vmlinux.sh: unpacks the ELF vmlinux from a bzImage (lz4, zstd, xz or gzip payload), so that
# cloak can boot it through its PVH note without the decompressor.
# usage: extract-vmlinux.sh BZIMAGE OUT
set -eu
in=$1 out=$2
try() {  # try MAGIC_REGEX DECOMPRESSOR...: every offset where the magic occurs, until an ELF comes out
	magic=$1
	shift
	for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1); do
		tail -c +$((off + 1)) "$in" | "$@" >"$out" 2>/dev/null || true
		if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			return 0
		fi
	done
	return 1
}
try '\x02\x21\x4c\x18' lz4 -dc ||
	try '\x28\xb5\x2f\xfd' zstd -qdc ||
	try '\xfd\x37\x7a\x58\x5a\x00' xz -qdc ||
	try '\x1f\x8b\x08' gzip -qdc || {
	rm -f "$out"
	echo "extract-vmlinux.sh: found no compressed ELF kernel in $in (lz4, zstd, xz and gzip tried)" >&2
	exit 2
}
