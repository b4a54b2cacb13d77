#!/usr/bin/env bash
# Builds the web console into $1 (Maven runs this in generate-resources).
# Needs Node >= 20.19 and npm; packages come from the npm registry as pinned in package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
out="${1:?usage: build.sh OUTPUT_DIR}"

command -v node >/dev/null || { echo "console: node is missing (Node 20.19+ and npm are needed to build the web console)" >&2; exit 1; }
command -v npm >/dev/null || { echo "console: npm is missing (Node 20.19+ and npm are needed to build the web console)" >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { echo "console: Node $(node --version) is too old; Vite 7 needs 20.19+ or 22.12+" >&2; exit 1; }

# npm ci only when node_modules does not match package-lock.json (npm writes node_modules/.package-lock.json)
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "console: npm ci" >&2
  # the e2e test drives Debian's chromium and firefox-esr; puppeteer-core downloads no browser, and
  # this keeps any puppeteer package from trying
  export PUPPETEER_SKIP_DOWNLOAD=true
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.package-lock.json
fi

# rebuild only when a source is newer than the last build
stamp="$out/index.html"
if [ -f "$stamp" ] && [ -z "$(find src vite.config.js package-lock.json -newer "$stamp" -type f -print -quit)" ]; then
  exit 0
fi
FORKLINE_CONSOLE_OUT="$out" npx --no-install vite build --logLevel warn
