// Package awsenv builds the AWS configuration of a Lambda function from
// what the Lambda runtime puts in its environment: the region
// (AWS_REGION), the execution role's credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) and, for local runs, endpoint
// overrides (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL).
//
// It replaces the SDK's config.LoadDefaultConfig in the functions: that
// loader also links shared config files, SSO, the login and STS web
// identity providers, process credentials and the EC2 metadata client,
// none of which runs on Lambda; they were about 1.9 MiB of every bootstrap
// (docs/lambda-performance.md). The single binary keeps the SDK's loader:
// it runs anywhere.
package awsenv

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// The environment variables read.
const (
	EnvRegion        = "AWS_REGION"
	EnvDefaultRegion = "AWS_DEFAULT_REGION"
	EnvAccessKeyID   = "AWS_ACCESS_KEY_ID"
	EnvSecretKey     = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken  = "AWS_SESSION_TOKEN"
	// EnvEndpointURL is the endpoint of every service, unless the
	// service's own (EnvEndpointURL + "_" + its id) is set.
	EnvEndpointURL = "AWS_ENDPOINT_URL"
	// EnvIgnoreEndpointURLs set to "true" ignores both, as the SDK does.
	EnvIgnoreEndpointURLs = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
)

// Load returns the configuration read through getenv: the region and
// static credentials, which Lambda refreshes by starting a new instance.
// A missing region or credential is an error that names the variable (the
// SDK's loader would fail only at the first request).
func Load(getenv func(string) string) (aws.Config, error) {
	region := strings.TrimSpace(getenv(EnvRegion))
	if region == "" {
		region = strings.TrimSpace(getenv(EnvDefaultRegion))
	}
	id, secret := strings.TrimSpace(getenv(EnvAccessKeyID)), strings.TrimSpace(getenv(EnvSecretKey))
	var errs []error
	if region == "" {
		errs = append(errs, fmt.Errorf("%s is not set (Lambda sets it)", EnvRegion))
	}
	if id == "" || secret == "" {
		errs = append(errs, fmt.Errorf("%s and %s must be set (Lambda sets them to the execution role's credentials)", EnvAccessKeyID, EnvSecretKey))
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, fmt.Errorf("awsenv: %w", err)
	}
	return aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, strings.TrimSpace(getenv(EnvSessionToken))),
	}, nil
}

// Endpoint returns the endpoint override of the service whose
// environment id is service (e.g. "DYNAMODB", "SQS"), nil when none: the
// service's own variable first, then AWS_ENDPOINT_URL, as the SDK's
// loader resolves them.
func Endpoint(getenv func(string) string, service string) *string {
	if strings.EqualFold(strings.TrimSpace(getenv(EnvIgnoreEndpointURLs)), "true") {
		return nil
	}
	for _, k := range []string{EnvEndpointURL + "_" + service, EnvEndpointURL} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return &v
		}
	}
	return nil
}
