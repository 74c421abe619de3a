package awsenv_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/awsenv"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestLoad: region and credentials from the variables Lambda sets, and an
// error naming what is missing.
func TestLoad(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		wantRegion string
		wantToken  string
		wantErr    []string
	}{
		{name: "lambda", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "tok"}, wantRegion: "eu-west-1", wantToken: "tok"},
		{name: "default region", env: map[string]string{"AWS_DEFAULT_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}, wantRegion: "us-east-2"},
		{name: "AWS_REGION wins", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-east-2", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}, wantRegion: "eu-west-1"},
		{name: "nothing", env: map[string]string{}, wantErr: []string{"AWS_REGION is not set", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set"}},
		{name: "no secret", env: map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID"}, wantErr: []string{"AWS_SECRET_ACCESS_KEY must be set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := awsenv.Load(env(tc.env))
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, region %q", cfg.Region)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if s := tc.env["AWS_SECRET_ACCESS_KEY"]; s != "" && strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tc.wantRegion {
				t.Errorf("region %q, want %q", cfg.Region, tc.wantRegion)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != "AKID" || creds.SecretAccessKey != "s" || creds.SessionToken != tc.wantToken {
				t.Errorf("credentials %q/%q/%q", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken)
			}
		})
	}
}

// TestEndpoint: the service's own override, then the global one, none
// when told to ignore them.
func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{name: "none", env: map[string]string{}},
		{name: "service", env: map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL": "http://global"}, want: "http://127.0.0.1:8000"},
		{name: "global", env: map[string]string{"AWS_ENDPOINT_URL": "http://global", "AWS_ENDPOINT_URL_SQS": "http://sqs"}, want: "http://global"},
		{name: "ignored", env: map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://x", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := awsenv.Endpoint(env(tc.env), "DYNAMODB")
			switch {
			case tc.want == "" && got != nil:
				t.Errorf("endpoint %q, want none", *got)
			case tc.want != "" && (got == nil || *got != tc.want):
				t.Errorf("endpoint %v, want %q", got, tc.want)
			}
		})
	}
}
