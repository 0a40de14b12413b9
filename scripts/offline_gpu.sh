#!/usr/bin/env bash
# Build and test on a GPU host that has no package registry (issue 4).
#
#   scripts/offline_gpu.sh stage                on a connected Debian 12 machine, in this checkout:
#                                               apt-get download the CPU dependencies into .offline/debs
#                                               (ignored by git) and record the git revision
#   scripts/offline_gpu.sh build-test           on the GPU host (nvcc, cmake, ninja, g++ present):
#                                               unpack the debs into a prefix (never /), configure
#                                               against it, build everything, run every test
#   scripts/offline_gpu.sh sanitize             compute-sanitizer memcheck and racecheck on the
#                                               [sanitize] set of the GPU tests (after build-test)
#   scripts/offline_gpu.sh bench [gdn bench options]
#                                               the decode benchmark (after build-test)
#
# Carry .offline/ to the GPU host with the checkout. Environment: GDN_DEPS_PREFIX (default
# /tmp/gdn-deps), GDN_BUILD_DIR (default build-gpu), GDN_CUDA_GENCODE (default: the project's
# sm_90a + sm_80 + PTX; e.g. "-gencode=arch=compute_90a,code=sm_90a" builds faster for one
# H100), GDN_JOBS (default: all cores), GDN_LOG_DIR (logs, default <build>/logs),
# GDN_CTEST_ARGS (extra ctest arguments, e.g. "-L gpu" for the GPU tests only).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OFFLINE=${GDN_OFFLINE_DIR:-$ROOT/.offline}
PREFIX=${GDN_DEPS_PREFIX:-/tmp/gdn-deps}
BUILD=${GDN_BUILD_DIR:-$ROOT/build-gpu}
JOBS=${GDN_JOBS:-$(nproc)}
LOGS=${GDN_LOG_DIR:-$BUILD/logs}
MULTIARCH=x86_64-linux-gnu
# Eigen, HDF5 (C library and what it links), CLI11, Catch2 v2: the Debian 12 packages of the
# CPU build. The GPU host's own toolchain provides the compilers, CMake and CUDA.
PACKAGES=(libeigen3-dev libhdf5-dev libhdf5-103-1 libhdf5-cpp-103-1 libhdf5-hl-100 libhdf5-hl-cpp-100 libsz2 libaec0
          libcli11-dev catch2)

stage() {
  command -v apt-get >/dev/null || { echo "stage: needs apt-get (a connected Debian machine)" >&2; exit 2; }
  # .offline/ into git's exclude file, wherever this checkout keeps it (a worktree's .git is a
  # file; a checkout may lack info/); nothing to do in a copy that is not a git checkout.
  local exclude
  if exclude=$(git -C "$ROOT" rev-parse --git-path info/exclude 2>/dev/null); then
    case $exclude in /*) ;; *) exclude=$ROOT/$exclude ;; esac
    mkdir -p "$(dirname "$exclude")"
    grep -qx '/.offline/' "$exclude" 2>/dev/null || echo /.offline/ >> "$exclude"
  fi
  mkdir -p "$OFFLINE/debs"
  (cd "$OFFLINE/debs" && apt-get download "${PACKAGES[@]}")
  git -C "$ROOT" describe --always --dirty --tags > "$OFFLINE/revision" 2>/dev/null || echo unknown > "$OFFLINE/revision"
  echo "staged $(ls "$OFFLINE"/debs/*.deb | wc -l) packages in $OFFLINE/debs, revision $(cat "$OFFLINE/revision")"
}

unpack() {
  [ -d "$OFFLINE/debs" ] || { echo "no $OFFLINE/debs: run '$0 stage' on a connected machine first" >&2; exit 2; }
  case "$PREFIX" in /|/usr|/usr/*) echo "refusing to unpack into $PREFIX" >&2; exit 2 ;; esac
  mkdir -p "$PREFIX"
  for deb in "$OFFLINE"/debs/*.deb; do dpkg -x "$deb" "$PREFIX"; done
}

env_for_deps() {
  export LD_LIBRARY_PATH="$PREFIX/usr/lib/$MULTIARCH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}

configure() {
  local usr=$PREFIX/usr
  local gencode=()
  [ -n "${GDN_CUDA_GENCODE:-}" ] && gencode=(-DGDN_CUDA_GENCODE="$GDN_CUDA_GENCODE")
  # Explicit paths: the packages' CMake configs are relocatable; HDF5 is found by FindHDF5
  # from its Debian "serial" layout; HDF5_ROOT keeps it from searching the host (no h5cc wrapper).
  # Without the wrapper FindHDF5 names libhdf5 alone, not the zlib it links; golden/h5.cpp
  # calls zlib too, so the link takes symbols from libhdf5's own dependencies.
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_POLICY_VERSION_MINIMUM=3.5 \
    -DEigen3_DIR="$usr/share/eigen3/cmake" \
    -DCLI11_DIR="$usr/share/cmake/CLI11" \
    -DCatch2_DIR="$usr/lib/cmake/Catch2" \
    -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON \
    -DHDF5_ROOT="$usr" \
    -DHDF5_C_INCLUDE_DIR="$usr/include/hdf5/serial" \
    -DHDF5_hdf5_LIBRARY_RELEASE="$usr/lib/$MULTIARCH/hdf5/serial/libhdf5.so" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--copy-dt-needed-entries" \
    "${gencode[@]}"
}

build_test() {
  unpack
  env_for_deps
  mkdir -p "$LOGS"
  configure 2>&1 | tee "$LOGS/configure.log"
  ninja -C "$BUILD" -j "$JOBS" 2>&1 | tee "$LOGS/build.log"
  # shellcheck disable=SC2086
  (cd "$BUILD" && ctest --output-on-failure -j "$JOBS" --timeout 600 ${GDN_CTEST_ARGS:-}) 2>&1 | tee "$LOGS/ctest.log"
}

sanitize() {
  env_for_deps
  mkdir -p "$LOGS"
  command -v compute-sanitizer >/dev/null || export PATH="$PATH:/usr/local/cuda/bin"
  local status=0
  for tool in memcheck racecheck; do
    compute-sanitizer --tool "$tool" --error-exitcode 3 "$BUILD/tests/gpu/kernel_test" "[sanitize]" 2>&1 |
      tee "$LOGS/sanitize-$tool.log" || status=1
  done
  return $status
}

bench() {
  env_for_deps
  local rev=unknown
  [ -f "$OFFLINE/revision" ] && rev=$(cat "$OFFLINE/revision")
  "$BUILD/cli/gdn" bench --revision "$rev" "$@"
}

case "${1:-}" in
  stage) stage ;;
  build-test) build_test ;;
  sanitize) sanitize ;;
  bench) shift; bench "$@" ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
