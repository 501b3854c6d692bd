#!/usr/bin/env bash
# Consumer test: install the build into a temporary prefix, then build and run
# tests/consumer/main.c against it the two ways users do:
#   (a) CMake: find_package(cnet) -> cnet::cnet and cnet::cnet_static
#   (b) pkg-config: `cc main.c $(pkg-config --cflags --libs cnet)`, and the
#       static variant with `pkg-config --static --libs cnet`.
# Also checks the installed layout (headers, SONAME, package files) and that
# <cnet.h> pulls in neither <uv.h> nor OpenSSL's headers (STYLE S-2). With TLS
# (CNET_HAVE_TLS in version.h) the static links need OpenSSL, and
# <cnet/openssl.h> must compile on its own.
#
# Usage (CTest runs it this way): bash tests/test_consumer.sh <source_dir> <build_dir>
set -euo pipefail

src=$(cd "${1:?usage: test_consumer.sh <source_dir> <build_dir>}" && pwd)
build=$(cd "${2:?usage: test_consumer.sh <source_dir> <build_dir>}" && pwd)

fail() {
    echo "test_consumer: FAIL: $*" >&2
    exit 1
}
run() {
    echo "+ $*"
    "$@"
}
cache_get() { # cache_get VAR -> value from the build's CMakeCache.txt
    sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -n1
}

[ -f "$build/CMakeCache.txt" ] || fail "$build is not a CMake build directory"
for tool in cmake pkg-config readelf; do
    command -v "$tool" >/dev/null || fail "$tool not found (scripts/deps.sh installs it)"
done

# Build the consumer the way the library was built: same compiler, and the
# same sanitizers (an instrumented libcnet needs an instrumented program).
cc=$(cache_get CMAKE_C_COMPILER)
[ -n "$cc" ] || cc=cc
sanitize=$(cache_get CNET_SANITIZE)
san_flags=""
if [ -n "$sanitize" ]; then
    san_flags="-fsanitize=${sanitize//;/,} -fno-sanitize-recover=all -fno-omit-frame-pointer"
fi
cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror $san_flags"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnet-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

echo "== install into $prefix"
run cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "cmake --install failed"; }
cat "$tmp/install.log"

echo "== installed layout"
version=$(sed -n 's/^#define CNET_VERSION_STRING "\(.*\)"/\1/p' "$prefix/include/cnet/version.h")
[ -n "$version" ] || fail "include/cnet/version.h missing or has no CNET_VERSION_STRING"
major=${version%%.*}
have_tls=$(sed -n 's/^#define CNET_HAVE_TLS \([01]\)$/\1/p' "$prefix/include/cnet/version.h")
[ -n "$have_tls" ] || fail "include/cnet/version.h has no CNET_HAVE_TLS"
for f in include/cnet.h include/cnet/uv.h include/cnet/version.h; do
    [ -f "$prefix/$f" ] || fail "$f not installed"
done
if [ "$have_tls" = 1 ]; then
    [ -f "$prefix/include/cnet/openssl.h" ] || fail "include/cnet/openssl.h not installed"
else
    [ ! -e "$prefix/include/cnet/openssl.h" ] || fail "cnet/openssl.h installed without TLS"
fi
[ ! -e "$prefix/include/internal.h" ] || fail "private header src/internal.h was installed"
pcfile=$(find "$prefix" -path '*/pkgconfig/cnet.pc' | head -n1)
[ -n "$pcfile" ] || fail "cnet.pc not installed"
libdir=$(dirname "$(dirname "$pcfile")")
for f in libcnet.a libcnet.so "libcnet.so.$major"; do
    [ -e "$libdir/$f" ] || fail "$libdir/$f not installed"
done
soname=$(readelf -d "$libdir/libcnet.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libcnet.so.$major" ] || fail "SONAME is '$soname', expected libcnet.so.$major"
for f in cnetConfig.cmake cnetConfigVersion.cmake cnetTargets.cmake; do
    [ -f "$libdir/cmake/cnet/$f" ] || fail "$libdir/cmake/cnet/$f not installed"
done
echo "version $version, libdir $libdir, SONAME $soname"

# <cnet.h> must stand alone and must not include <uv.h>.
# shellcheck disable=SC2086,SC2046 # word splitting of flags is intended
deps=$("$cc" $cflags -I"$prefix/include" -M "$src/tests/consumer/main.c") ||
    fail "main.c does not preprocess against the installed headers"
if grep -Eq '(^|[ /])uv\.h' <<<"$deps"; then
    fail "<cnet.h> includes <uv.h>; only <cnet/uv.h> may"
fi
if grep -Eq '(^|[ /])openssl/' <<<"$deps"; then
    fail "<cnet.h> includes OpenSSL's headers; only <cnet/openssl.h> may"
fi
# <cnet/uv.h> stands alone with libuv's flags (compile only). Not -std=c11: <uv.h>
# itself needs POSIX types that strict C11 hides (pthread_rwlock_t).
# shellcheck disable=SC2086,SC2046 # word splitting of flags is intended
run "$cc" -Wall -Wextra -Werror $san_flags -I"$prefix/include" $(pkg-config --cflags libuv) \
    -c "$src/tests/consumer/uv_interop.c" -o "$tmp/uv_interop.o" ||
    fail "<cnet/uv.h> does not compile on its own"
if [ "$have_tls" = 1 ]; then
    # shellcheck disable=SC2086,SC2046 # word splitting of flags is intended
    run "$cc" $cflags -I"$prefix/include" $(pkg-config --cflags libssl) \
        -c "$src/tests/consumer/openssl_interop.c" -o "$tmp/openssl_interop.o" ||
        fail "<cnet/openssl.h> does not compile on its own"
fi

needs_libcnet() { # needs_libcnet BINARY -> true if it has DT_NEEDED libcnet.so.MAJOR
    readelf -d "$1" | grep -q "(NEEDED).*\[libcnet\.so\.$major\]"
}

echo "== (a) CMake: find_package(cnet)"
run cmake -S "$src/tests/consumer" -B "$tmp/cmake-build" \
    -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_C_FLAGS="$cflags" \
    -DCMAKE_EXE_LINKER_FLAGS="$san_flags"
cnet_dir=$(sed -n 's/^cnet_DIR:[A-Z]*=//p' "$tmp/cmake-build/CMakeCache.txt")
[ "$cnet_dir" = "$libdir/cmake/cnet" ] || fail "find_package found cnet in '$cnet_dir', not in $prefix"
run cmake --build "$tmp/cmake-build" -j2
run "$tmp/cmake-build/consumer_shared" || fail "consumer_shared (cnet::cnet) failed"
run "$tmp/cmake-build/consumer_static" || fail "consumer_static (cnet::cnet_static) failed"
needs_libcnet "$tmp/cmake-build/consumer_shared" || fail "cnet::cnet did not link libcnet.so.$major"
! needs_libcnet "$tmp/cmake-build/consumer_static" || fail "cnet::cnet_static linked libcnet.so"

echo "== (b) pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
run pkg-config --print-errors --exists cnet || fail "pkg-config cannot use cnet.pc"
[ "$(pkg-config --modversion cnet)" = "$version" ] || fail "cnet.pc version != $version"
[ "$(pkg-config --variable=prefix cnet)" = "$prefix" ] ||
    fail "cnet.pc prefix is '$(pkg-config --variable=prefix cnet)', expected $prefix"
pc_libs=$(pkg-config --libs cnet)
pc_static=$(pkg-config --static --libs cnet)
echo "pkg-config --libs cnet:          $pc_libs"
echo "pkg-config --static --libs cnet: $pc_static"
grep -qw -- '-luv' <<<"$pc_static" || fail "pkg-config --static --libs cnet lacks -luv"
if [ "$have_tls" = 1 ]; then
    for lib in -lssl -lcrypto; do
        grep -qw -- "$lib" <<<"$pc_static" || fail "pkg-config --static --libs cnet lacks $lib"
    done
    ! grep -qw -- '-lssl' <<<"$pc_libs" || fail "pkg-config --libs cnet (shared) names -lssl"
fi
# shellcheck disable=SC2086,SC2046 # word splitting of flags is intended
run "$cc" $cflags "$src/tests/consumer/main.c" $(pkg-config --cflags --libs cnet) \
    -o "$tmp/pc_shared"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" run "$tmp/pc_shared" ||
    fail "pc_shared failed"
needs_libcnet "$tmp/pc_shared" || fail "pkg-config link did not use libcnet.so.$major"
# Static: the same flags with libcnet.a forced, so only --static adds libuv.
# shellcheck disable=SC2086,SC2046 # word splitting of flags is intended
run "$cc" $cflags "$src/tests/consumer/main.c" $(pkg-config --cflags cnet) \
    ${pc_static//-lcnet/-l:libcnet.a} -o "$tmp/pc_static"
run "$tmp/pc_static" || fail "pc_static failed"
! needs_libcnet "$tmp/pc_static" || fail "static pkg-config link used libcnet.so"

echo "test_consumer: PASS"
