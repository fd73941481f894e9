#!/usr/bin/env bash
# The UI page: lint and format-check its source, rebuild its bundle and fail when it differs from the
# committed one (users get the committed bundle in the wheel, with no Node); install Debian's Chromium
# for tests/ui.
set -euo pipefail
cd "$(dirname "$0")/.."
www=airflow_backfill_provider/plugin/www

missing=()
command -v chromium >/dev/null && command -v chromedriver >/dev/null || missing+=(chromium chromium-driver)
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ESLint and Prettier over the source, then the bundle
(cd "$www" && npm ci --no-audit --no-fund --loglevel=error && npm run lint && npm run format:check && npm run build)
if ! git diff --quiet --exit-code -- "$www/dist" || [ -n "$(git status --porcelain -- "$www/dist")" ]; then
  echo "The committed UI bundle differs from its source: run 'npm ci && npm run build' in $www and commit dist/." >&2
  git status --short -- "$www/dist" >&2
  exit 1
fi
