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

# The page's types are generated from the API's OpenAPI document (as edge3's www does): both must be
# what the service answers today. Then ESLint and Prettier over the source, then the bundle.
python -m airflow_backfill_provider.plugin.app "$www/openapi.json" 2>/dev/null
(cd "$www" && npm ci --no-audit --no-fund --loglevel=error && npm run codegen >/dev/null && npm run lint \
  && npm run format:check && npm run build)
for generated in "$www/openapi.json" "$www/src/openapi-gen" "$www/dist"; do
  if ! git diff --quiet --exit-code -- "$generated" || [ -n "$(git status --porcelain -- "$generated")" ]; then
    echo "$generated differs from what its source makes: run 'python -m airflow_backfill_provider.plugin.app" \
      "$www/openapi.json', then 'npm ci && npm run codegen && npm run build' in $www, and commit." >&2
    git status --short -- "$generated" >&2
    exit 1
  fi
done
