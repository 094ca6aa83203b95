#!/bin/sh
# build.sh: builds the libFuzzer targets with clang (ASan + UBSan), apart from the gcc build.
# usage: tests/fuzz/build.sh [OUTDIR]      (default build-fuzz)
# run:   build-fuzz/fuzz_virtq -max_total_time=600 build-fuzz/corpus-virtq
#        build-fuzz/fuzz_pci   -max_total_time=600 build-fuzz/corpus-pci
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/build-fuzz}
mkdir -p "$out" "$out/corpus-virtq" "$out/corpus-pci"
CC=${CC:-clang}
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -Wall -Wextra -Werror -Wno-missing-field-initializers -DCLOAK_VERSION_STRING=\"fuzz\" -I$top/vmm -I$top/devices -I$top/tests/fakes"
# Just the code under test and guest memory: devices reach the rest through the fake device host.
core="$top/devices/virtq.c $top/devices/pci.c $top/devices/virtio_pci.c
  $top/vmm/util.c $top/vmm/guestmem.c $top/vmm/shared_map.c $top/tests/fakes/fake_host.c"
$CC $flags -o "$out/fuzz_virtq" "$top/tests/fuzz/fuzz_virtq.c" $core -lpthread
$CC $flags -o "$out/fuzz_pci" "$top/tests/fuzz/fuzz_pci.c" $core -lpthread
echo "built $out/fuzz_virtq and $out/fuzz_pci"
