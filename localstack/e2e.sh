#!/usr/bin/env bash
# End-to-end suite against the stack deployed on LocalStack (make e2e-local):
# bootstraps two organizations in the deployed table with the single binary,
# then walks the key lifecycle through the deployed REST API.
set -euo pipefail
cd "$(dirname "$0")/.."

outputs=${1:-build/cdk-outputs-local.json}
[ -f "$outputs" ] || { echo "no $outputs: run 'make deploy-local' first"; exit 1; }
read -r api table < <(python3 -c '
import json, sys
stack = next(iter(json.load(open(sys.argv[1])).values()))
print(stack["ApiUrl"].rstrip("/"), stack["TableName"])' "$outputs")

export AWS_ENDPOINT_URL=${LOCALSTACK_URL:-http://localhost:4566}
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1

boot() { go run ./functions/edge bootstrap --store dynamodb --table "$table" --organization "$1" --log-level warn; }
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

a=$(boot "e2e A")
b=$(boot "e2e B")
E2E_BASE_URL=$api \
E2E_ORGANIZATION_ID=$(field "$a" organization_id) \
E2E_OWNER_TOKEN=$(field "$a" token) \
E2E_OTHER_OWNER_TOKEN=$(field "$b" token) \
  go test -count=1 -tags remote -run TestLifecycleRemote ./functions/edge
