#!/usr/bin/env bash
# Installs the Debian 12 packages mnistbench builds and tests with.
# Usage: tools/install-deps.sh [--fuzz]   (as root, or through sudo when available)
#   --fuzz  also clang-14, libFuzzer and LLVM's OpenMP, for tools/ci-fuzz.sh
set -euo pipefail
packages=(
  g++ meson ninja-build pkg-config git
  libhwy-dev nlohmann-json3-dev zlib1g-dev
  catch2 libbenchmark-dev
  openmpi-bin  # mpirun, for the sharded-sweep test (the runner itself needs no MPI)
  librsvg2-bin  # rsvg-convert, for the test that renders the plots
  time  # GNU time's peak RSS, for the tests that bound it (tests/bad_input_test.sh)
  # slurmctld, slurmd, sbatch, srun and munged, for the test that runs sweeps on a
  # private single-node Slurm cluster (it starts its own daemons; none is configured here)
  slurm-wlm munge
)
case ${1:-} in
  "") ;;
  --fuzz) packages+=(clang-14 libclang-rt-14-dev libomp-14-dev) ;;
  *) echo "usage: tools/install-deps.sh [--fuzz]" >&2; exit 2 ;;
esac
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
