#!/usr/bin/env bash
# Checks the declared minimum Rust version: no locked dependency may need a newer one, and
# when a toolchain of exactly that version is installed, the crate must build with it.
# (No toolchain but the machine's one can be fetched here, so the second check usually
# reports that it was not run.)
set -euo pipefail
cd "$(dirname "$0")/.."
declared=$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)
cargo metadata --locked --format-version 1 | python3 -c '
import json, sys
declared = tuple(int(x) for x in sys.argv[1].split("."))
meta = json.load(sys.stdin)
def version(text):
    return tuple(int(x) for x in text.split("."))
newer = [(p["name"], p["version"], p["rust_version"]) for p in meta["packages"]
         if p.get("rust_version") and version(p["rust_version"]) > declared + (0,) * (3 - len(declared))]
if newer:
    for name, ver, rv in newer:
        print(f"msrv: {name} {ver} needs Rust {rv}, above rust-version {sys.argv[1]}")
    sys.exit(1)
print(f"msrv: every dependency builds with Rust {sys.argv[1]} or older")
' "$declared"
if command -v rustup >/dev/null 2>&1 && rustup toolchain list | grep -q "^$declared"; then
    cargo "+$declared" check --locked --all-targets
else
    echo "msrv: no $declared toolchain installed; the build itself was checked with $(rustc --version)"
fi
