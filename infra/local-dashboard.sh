#!/usr/bin/env bash
# Uploads the dashboard and its config.json to the stack's bucket on
# LocalStack. On AWS a BucketDeployment does this, but its custom resource
# (a Lambda with an AWS CLI layer) does not run on LocalStack's community
# edition, so `make deploy-local` calls this script after `cdklocal deploy`.
#
# usage: infra/local-dashboard.sh <cdk outputs file> <dashboard folder>
# Needs curl (with --aws-sigv4, curl >= 7.75) and node; LOCALSTACK_URL
# defaults to http://localhost:4566.
set -euo pipefail

outputs=${1:?usage: $0 <cdk outputs file> <dashboard folder>}
dist=${2:?usage: $0 <cdk outputs file> <dashboard folder>}
endpoint=${LOCALSTACK_URL:-http://localhost:4566}

read_output() {
  node -e '
    const o = require(require("path").resolve(process.argv[1]));
    const s = Object.values(o)[0] || {};
    if (!s[process.argv[2]]) { console.error("no output " + process.argv[2] + " in " + process.argv[1]); process.exit(1); }
    console.log(s[process.argv[2]]);
  ' "$outputs" "$1"
}
bucket=$(read_output DashboardBucket)
api=$(read_output ApiUrl)
dashboard=$(read_output DashboardUrl)

put() { # put <file> <key> <content type>
  curl -fsS -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" --user test:test \
    -X PUT -H "Content-Type: $3" --data-binary "@$1" "$endpoint/$bucket/$2"
}

type_of() {
  case "$1" in
    *.html) echo "text/html; charset=utf-8" ;;
    *.js | *.mjs) echo "text/javascript; charset=utf-8" ;;
    *.css) echo "text/css; charset=utf-8" ;;
    *.json | *.map) echo "application/json" ;;
    *.svg) echo "image/svg+xml" ;;
    *.png) echo "image/png" ;;
    *.ico) echo "image/x-icon" ;;
    *.woff2) echo "font/woff2" ;;
    *.txt) echo "text/plain; charset=utf-8" ;;
    *) echo "application/octet-stream" ;;
  esac
}

if [ -d "$dist" ]; then
  n=0
  while IFS= read -r -d '' f; do
    key=${f#"$dist"/}
    put "$f" "$key" "$(type_of "$f")"
    n=$((n + 1))
  done < <(find "$dist" -type f -print0)
  echo "uploaded $n dashboard files from $dist to s3://$bucket"
else
  echo "warning: $dist does not exist; only config.json is uploaded (build the dashboard first)" >&2
fi

config=$(mktemp)
trap 'rm -f "$config"' EXIT
node -e 'console.log(JSON.stringify({apiBaseUrl: process.argv[1]}))' "$api" >"$config"
put "$config" config.json application/json
echo "config.json: {\"apiBaseUrl\": \"$api\"}"
echo "dashboard: $dashboard/"
