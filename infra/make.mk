# CDK targets, included from the Makefile (run from the repository root).
#
#   make cdk-install    the pinned CDK CLI (aws-cdk 2.1xxx) and cdklocal into
#                       infra/cli/node_modules (npm ci)
#   make synth          build the functions, synthesize the app into cdk.out
#                       (no AWS credentials needed)
#   make cdk-bootstrap  once per AWS account and region: the CDK toolkit stack
#   make deploy         build and deploy to the AWS account of your credentials
#   make stack-run      the synthesized stack served locally (functions under
#                       the Lambda emulator, table on moto) and the key
#                       lifecycle through it (go test ./infra/stackrun)
#   make deploy-local   the same app on LocalStack (make localstack-up first):
#                       -c local=true -c throwaway=true, then the dashboard
#                       and its config.json uploaded by infra/local-dashboard.sh
#
# CDK_ARGS passes more options, e.g.
#   make deploy CDK_ARGS='-c authorizerCacheSeconds=60 --require-approval never'

CDK_CLI_DIR := infra/cli
CDK := $(CDK_CLI_DIR)/node_modules/.bin/cdk
CDKLOCAL := $(CDK_CLI_DIR)/node_modules/.bin/cdklocal
CDK_ARGS ?=
CDK_OUTPUTS := build/cdk-outputs.json
CDK_LOCAL_OUTPUTS := build/cdk-outputs-local.json
CDK_LOCAL_CONTEXT := -c local=true -c throwaway=true
LOCALSTACK_URL ?= http://localhost:4566
# LocalStack takes any credentials; these never reach AWS.
LOCALSTACK_ENV := AWS_ENDPOINT_URL=$(LOCALSTACK_URL) AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 CDK_DEFAULT_ACCOUNT=000000000000 CDK_DEFAULT_REGION=us-east-1

# jsii's full-screen banners about Node 20 (untested, end-of-life): only
# for major version 20, so another unsupported Node still warns. The app
# sets them too (infra/stack.SilenceNodeBanner); real errors still print.
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION ?= 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
# The CLI's anonymous usage reporting: off.
export CDK_DISABLE_CLI_TELEMETRY ?= true

.PHONY: cdk-install synth stack-run cdk-bootstrap deploy deploy-local

cdk-install: $(CDK) ## install the pinned CDK CLI and cdklocal (npm ci in infra/cli)
$(CDK): $(CDK_CLI_DIR)/package-lock.json
	cd $(CDK_CLI_DIR) && npm ci --no-audit --no-fund
	@touch $(CDK) $(CDKLOCAL)

synth: functions cdk-install ## build the functions and synthesize the CDK app into cdk.out (no AWS credentials needed)
	$(CDK) synth --quiet $(CDK_ARGS)
	@echo "synthesized: cdk.out/DotEnvApiKeys.template.json"

stack-run: ## run the synthesized stack locally (Lambda emulator, moto) and the key lifecycle through it; no AWS, no Docker
	$(GO) test -count=1 ./infra/stackrun/

cdk-bootstrap: cdk-install ## once per AWS account/region: deploy the CDK toolkit stack
	$(CDK) bootstrap $(CDK_ARGS)

deploy: functions cdk-install ## build and deploy the stack to AWS (your credentials); outputs in build/cdk-outputs.json
	@mkdir -p $(dir $(CDK_OUTPUTS))
	$(CDK) deploy --outputs-file $(CDK_OUTPUTS) $(CDK_ARGS)

deploy-local: functions cdk-install ## deploy the same app to LocalStack (local=true, throwaway=true) and upload the dashboard
	@curl -fsS -o /dev/null $(LOCALSTACK_URL)/_localstack/health || { echo "LocalStack does not answer on $(LOCALSTACK_URL): run 'make localstack-up' first"; exit 1; }
	@mkdir -p $(dir $(CDK_LOCAL_OUTPUTS))
	$(LOCALSTACK_ENV) $(CDKLOCAL) bootstrap $(CDK_LOCAL_CONTEXT)
	$(LOCALSTACK_ENV) $(CDKLOCAL) deploy --require-approval never --outputs-file $(CDK_LOCAL_OUTPUTS) $(CDK_LOCAL_CONTEXT) $(CDK_ARGS)
	LOCALSTACK_URL=$(LOCALSTACK_URL) bash infra/local-dashboard.sh $(CDK_LOCAL_OUTPUTS) web/dist
