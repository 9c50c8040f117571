#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, cached outside the repository so that a second
# run on the same machine takes a second:
#   - Debian packages: chromium (the browser that renders VS Code), and the build tools that
#     code-server's native modules compile with (only the missing ones are installed);
#   - code-server (VS Code's workbench and server, from npm) under CACHE/code-server-VERSION.
# It works with only the npm registry and Debian reachable. A folder without its
# `.complete` stamp is a broken install and is redone from scratch.
#
# usage: install-vscode.sh CACHE [VERSION]    (VERSION 4.100.3 = VS Code 1.100.3, Node 20)
set -euo pipefail
CACHE=${1:?usage: install-vscode.sh CACHE [VERSION]}
VERSION=${2:-4.100.3}
PREFIX="$CACHE/code-server-$VERSION"
PACKAGES=(chromium build-essential pkg-config libkrb5-dev ripgrep)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return
  echo "install-vscode: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { as_root apt-get update >/dev/null && as_root apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
}

# @vscode/ripgrep's postinstall downloads rg from GitHub; give it Debian's rg in the cache
# file it looks for first.
seed_ripgrep() {
  local server=$1 version tag=v13.0.0-10 stage
  version=$(node -p "require('$server/lib/vscode/npm-shrinkwrap.json').packages['node_modules/@vscode/ripgrep']?.version ?? ''")
  [ -n "$version" ] || return 0
  stage=$(mktemp -d)
  cp /usr/bin/rg "$stage/rg"
  mkdir -p "$TMPDIR/vscode-ripgrep-cache-$version"
  tar czf "$TMPDIR/vscode-ripgrep-cache-$version/ripgrep-$tag-x86_64-unknown-linux-musl.tar.gz" -C "$stage" rg
  rm -rf "$stage"
}

install_code_server() {
  local server="$PREFIX/lib/node_modules/code-server"
  echo "install-vscode: code-server $VERSION into $PREFIX (about a minute, once)" >&2
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX/tmp"
  export TMPDIR="$PREFIX/tmp"
  export npm_config_yes=true          # node-pty's install runs `npx node-gyp`
  export npm_config_nodedir=/usr      # node-gyp cannot download Node's headers offline
  # The package without its install script (a one-step global install fails under npm 11),
  # then its native modules and its postinstall, by hand.
  npm install --global --prefix "$PREFIX" --ignore-scripts --no-audit --no-fund \
    "code-server@$VERSION" >&2
  (cd "$server" && npm rebuild argon2 >&2)    # prebuilt download fails offline: build it
  seed_ripgrep "$server"
  (cd "$server" && npm_config_user_agent="npm/$(npm -v) node/$(node -v) linux x64" \
    npm_config_unsafe_perm=true sh postinstall.sh >&2)
  "$PREFIX/bin/code-server" --version >&2
  rm -rf "$PREFIX/tmp"
  touch "$PREFIX/.complete"
}

install_packages
[ -f "$PREFIX/.complete" ] || install_code_server
echo "$PREFIX/bin/code-server"
