// This folder holds the pinned CDK CLI (npm). node_modules/aws-cdk ships Go
// init templates; this go.mod makes the folder its own module so that
// `go build ./...` and `go test ./...` at the repository root skip it.
module github.com/dotenv/apikeys/infra/cli

go 1.26
