#!/usr/bin/env bash
# Installs a crates.io binary at an exact version into the per-user tool cache
# (outside the repository, so fresh clones on the same machine reuse it) and skips
# the work when that version is already there.
#
#   tools/install-cargo-tool.sh <crate> <version> <binary> [<dep>=<precise-version> ...]
#
# The optional <dep>=<version> pairs pin dependencies of the tool's own Cargo.lock
# that the registry reachable here does not serve (or that need a newer rustc):
# the tool's locked lock file is used, with those entries moved to a version that exists.
set -euo pipefail

crate=$1 version=$2 binary=$3
shift 3
root="${TOOLS_DIR:-$HOME/.cache/portico/tools}/$crate-$version"

if [ -x "$root/bin/$binary" ]; then
  exit 0
fi

echo "installing $crate $version into $root" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Let cargo itself download and unpack the exact crate source: a throw-away
# package that depends on it, then `cargo fetch`.
mkdir -p "$work/fetch/src"
cat >"$work/fetch/Cargo.toml" <<TOML
[package]
name = "fetch-$crate"
version = "0.0.0"
edition = "2021"
[dependencies]
$crate = "=$version"
TOML
: >"$work/fetch/src/lib.rs"
(cd "$work/fetch" && cargo fetch --quiet 2>/dev/null || cargo fetch)
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"$crate-$version" | head -n 1)
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"

cd "$work/src"
for pin in "$@"; do
  cargo update --offline -p "${pin%%=*}" --precise "${pin#*=}" 2>/dev/null ||
    cargo update -p "${pin%%=*}" --precise "${pin#*=}"
done
mkdir -p "$root.partial"
CARGO_TARGET_DIR="$work/target" cargo install --path . --locked --root "$root.partial" --bin "$binary"
rm -rf "$root"
mv "$root.partial" "$root"
