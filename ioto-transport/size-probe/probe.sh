#!/bin/sh
# Usage: probe.sh <target>   e.g. thumbv7em-none-eabihf
# Prints the .text/.rodata bytes of the HTTP and the WebSocket client for <target>
# (one LTO'd static library per feature).
set -eu
cd "$(dirname "$0")"
target=${1:-thumbv7em-none-eabihf}
for feature in http ws; do
    flags=""
    [ "$feature" != none ] && flags="--features $feature"
    RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
        /usr/bin/cargo build --quiet --release --target "$target" -Zbuild-std=core,alloc \
        $flags --target-dir target/$feature
    lib=target/$feature/$target/release/libioto_transport_size_probe.a
    # The LTO'd probe object holds our code (plus the core::fmt it uses);
    # compiler_builtins members are the same for every build and left out.
    echo "$feature $(llvm-size "$lib" | grep -v compiler_builtins | grep 'ioto_transport_size_probe-' | awk '{print "text=" $1 " data=" $2 " bss=" $3}')"
done
