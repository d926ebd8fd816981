#!/usr/bin/env bash
# Installs the Debian packages cachequeue needs to build, test and run the demo.
# Fast no-op when every package is already installed; otherwise needs root (or sudo).
set -euo pipefail

script_path=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$script_path")/.."

packages=(
    postgresql-15 postgresql-server-dev-15 postgresql-15-cron catch2 libpq-dev pgbouncer
    clang-format make g++ clang libclang-rt-14-dev
    nlohmann-json3-dev libcli11-dev libspdlog-dev libcpp-httplib-dev pkgconf prometheus
    python3-django python3-psycopg2 python3-django-redis redis-server
)

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} packages already installed"
    exit 0
fi

if ((EUID != 0)); then
    # Only a password-less sudo will do: this script must never prompt.
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        echo "deps: re-running with sudo to install: ${missing[*]}"
        exec sudo -n -- bash "$script_path" "$@"
    fi
    echo "deps: error: must run as root to install ${missing[*]} (no password-less sudo)" >&2
    exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}" </dev/null
echo "deps: done"
