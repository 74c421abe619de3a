// Command infra is the CDK app of the API keys service. The CDK CLI runs it
// (cdk.json: `go run ./infra`) from the repository root; context values
// (see package stack's Ctx* keys) select LocalStack, throwaway stacks, the
// authorizer's cache and the asset folders.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/infra/stack"
)

// StackName is the CloudFormation stack's name.
const StackName = "DotEnvApiKeys"

func main() {
	stack.SilenceNodeBanner()
	defer jsii.Close()

	app := awscdk.NewApp(nil)
	opts, err := stack.OptionsFromContext(app.Node())
	if err == nil {
		_, err = stack.New(app, StackName, &awscdk.StackProps{
			// Environment-agnostic unless CDK_DEFAULT_* are set (a
			// deploy with credentials); synth needs no account.
			Env: env(),
		}, opts)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}

// env pins the stack to the CLI's account and region when it knows them.
func env() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" || region == "" {
		return nil
	}
	return &awscdk.Environment{Account: jsii.String(account), Region: jsii.String(region)}
}
