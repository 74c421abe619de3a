#!/usr/bin/env bash
# LocalStack init hook (ready stage): runs inside the container once
# LocalStack answers. It only checks that the services the deploy needs
# respond and says so in the container's log. It creates nothing: the CDK
# bootstrap and the stack itself (table with TTL, functions, REST API,
# bucket, roles) are made by `make deploy-local` with cdklocal, so that
# LocalStack and AWS get exactly the same stack.
set -euo pipefail

region="${AWS_DEFAULT_REGION:-us-east-1}"
echo "apikeys: LocalStack is ready in ${region}; checking the services the stack needs"

awslocal --region "$region" sts get-caller-identity >/dev/null
awslocal --region "$region" dynamodb list-tables >/dev/null
awslocal --region "$region" s3api list-buckets >/dev/null
awslocal --region "$region" lambda list-functions >/dev/null
awslocal --region "$region" apigateway get-rest-apis >/dev/null
awslocal --region "$region" cloudformation list-stacks >/dev/null

echo "apikeys: sts, dynamodb, s3, lambda, apigateway and cloudformation answer; next: make deploy-local"
