# Lambda builds, included from the Makefile (run from the repository root).
#
#   make functions       every function as a static linux/arm64 bootstrap in
#                        build/lambda/<function>/bootstrap (the CDK assets)
#   make functions-host  the same for this machine's OS and architecture in
#                        build/lambda-host/<function>/bootstrap (local runs)
#   make rie             the AWS Lambda Runtime Interface Emulator, pinned,
#                        in build/tools/aws-lambda-rie
#   make lambda-perf     sizes, cold starts under the emulator and warm verify
#                        durations, each function against a baseline of the
#                        old layout (every handler linked) that the tool
#                        builds in the same run, into docs/lambda-performance.md

GO ?= go
# Every functions/<name>/main.go but the single binary's is a Lambda
# function: the list follows the tree, so a new function cannot be left out.
LAMBDA_FUNCTIONS := $(filter-out edge,$(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go)))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
LAMBDA_SOURCES := go.mod go.sum $(shell find functions shared -name '*.go' -not -name '*_test.go' -not -path 'shared/lambdatest/*' -not -path 'shared/proctest/*' -not -path 'shared/loadgen/*' -not -path 'functions/edge/*' 2>/dev/null)

# The emulator's module and pinned version; shared/lambdatest builds the
# same version (its tests check that the two agree).
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := build/tools/aws-lambda-rie

.PHONY: functions functions-host rie lambda-perf

functions: $(LAMBDA_FUNCTIONS:%=build/lambda/%/bootstrap) ## build every Lambda function (linux/arm64) into build/lambda/<function>/bootstrap

functions-host: $(LAMBDA_FUNCTIONS:%=build/lambda-host/%/bootstrap) ## build every Lambda function for this machine into build/lambda-host/<function>/bootstrap

build/lambda/%/bootstrap: $(LAMBDA_SOURCES)
	@mkdir -p $(@D)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

build/lambda-host/%/bootstrap: $(LAMBDA_SOURCES)
	@mkdir -p $(@D)
	CGO_ENABLED=0 $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

rie: $(RIE) ## build the pinned AWS Lambda Runtime Interface Emulator into build/tools/aws-lambda-rie

$(RIE): functions/make.mk
	@mkdir -p $(@D)
	GOBIN=$(abspath $(@D)) GOFLAGS= $(GO) install $(RIE_MODULE)/cmd/aws-lambda-rie@$(RIE_VERSION)
	@touch $@

lambda-perf: functions functions-host rie ## measure bootstrap sizes, cold-start init and warm verify under the emulator into docs/lambda-performance.md
	$(GO) run ./shared/lambdatest/lambdaperf -rie $(RIE) -host build/lambda-host -deploy build/lambda -out docs/lambda-performance.md
