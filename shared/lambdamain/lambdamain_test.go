package lambdamain_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
	"github.com/dotenv/apikeys/shared/wiring"
)

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestLoadConfig: what each function needs, and the messages that say what
// to set.
func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       authz.Function
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c lambdamain.Config)
	}{
		{name: "create", f: authz.FunctionCreate, env: map[string]string{"TABLE_NAME": " apikeys "}, check: func(t *testing.T, c lambdamain.Config) {
			if c.Table != "apikeys" || c.APIBaseURL != "" || c.LogLevel != slog.LevelInfo {
				t.Errorf("config %+v", c)
			}
		}},
		{name: "create without table", f: authz.FunctionCreate, env: map[string]string{}, wantErr: []string{"create function", "TABLE_NAME is not set"}},
		{name: "explore", f: authz.FunctionExplore, env: map[string]string{"TABLE_NAME": "t", "API_BASE_URL": "https://api.example.com/", "LOG_LEVEL": "debug"}, check: func(t *testing.T, c lambdamain.Config) {
			if c.APIBaseURL != "https://api.example.com" || c.LogLevel != slog.LevelDebug {
				t.Errorf("config %+v", c)
			}
		}},
		{name: "explore without anything", f: authz.FunctionExplore, env: map[string]string{}, wantErr: []string{"TABLE_NAME is not set", "API_BASE_URL is not set"}},
		{name: "explore with a relative base", f: authz.FunctionExplore, env: map[string]string{"TABLE_NAME": "t", "API_BASE_URL": "/v1"}, wantErr: []string{`API_BASE_URL="/v1" is not an absolute http(s) URL`}},
		{name: "explore with a query", f: authz.FunctionExplore, env: map[string]string{"TABLE_NAME": "t", "API_BASE_URL": "https://x.example?a=b"}, wantErr: []string{"without query"}},
		{name: "bad log level", f: authz.FunctionVerify, env: map[string]string{"TABLE_NAME": "t", "LOG_LEVEL": "loud"}, wantErr: []string{`LOG_LEVEL="loud"`}},
		{name: "audit retention default", f: authz.FunctionAudit, env: map[string]string{"TABLE_NAME": "t"}, check: func(t *testing.T, c lambdamain.Config) {
			if c.AuditRetention != 400*24*time.Hour {
				t.Errorf("retention %v, want 400 days", c.AuditRetention)
			}
		}},
		{name: "audit retention set", f: authz.FunctionEdit, env: map[string]string{"TABLE_NAME": "t", "AUDIT_RETENTION_DAYS": " 30 "}, check: func(t *testing.T, c lambdamain.Config) {
			if c.AuditRetention != 30*24*time.Hour {
				t.Errorf("retention %v, want 30 days", c.AuditRetention)
			}
		}},
		{name: "audit retention zero", f: authz.FunctionEdit, env: map[string]string{"TABLE_NAME": "t", "AUDIT_RETENTION_DAYS": "0"}, wantErr: []string{`AUDIT_RETENTION_DAYS="0"`}},
		{name: "audit retention not a number", f: authz.FunctionEdit, env: map[string]string{"TABLE_NAME": "t", "AUDIT_RETENTION_DAYS": "1y"}, wantErr: []string{`AUDIT_RETENTION_DAYS="1y"`}},
		{name: "key quota default", f: authz.FunctionCreate, env: map[string]string{"TABLE_NAME": "t"}, check: func(t *testing.T, c lambdamain.Config) {
			if c.MaxKeysPerOrganization != 0 {
				t.Errorf("key quota %d, want 0 (the keys package's default)", c.MaxKeysPerOrganization)
			}
		}},
		{name: "key quota set", f: authz.FunctionCreate, env: map[string]string{"TABLE_NAME": "t", "MAX_KEYS_PER_ORGANIZATION": " 25 "}, check: func(t *testing.T, c lambdamain.Config) {
			if c.MaxKeysPerOrganization != 25 {
				t.Errorf("key quota %d, want 25", c.MaxKeysPerOrganization)
			}
		}},
		{name: "key quota zero", f: authz.FunctionCreate, env: map[string]string{"TABLE_NAME": "t", "MAX_KEYS_PER_ORGANIZATION": "0"}, wantErr: []string{`MAX_KEYS_PER_ORGANIZATION="0" is not a whole number of keys of at least 1`}},
		{name: "key quota not a number", f: authz.FunctionCreate, env: map[string]string{"TABLE_NAME": "t", "MAX_KEYS_PER_ORGANIZATION": "lots"}, wantErr: []string{`MAX_KEYS_PER_ORGANIZATION="lots"`}},
		{name: "verify ignores API_BASE_URL", f: authz.FunctionVerify, env: map[string]string{"TABLE_NAME": "t", "API_BASE_URL": "::"}, check: func(t *testing.T, c lambdamain.Config) {
			if c.APIBaseURL != "" {
				t.Errorf("config %+v", c)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := lambdamain.LoadConfig(tc.f, getenv(tc.env))
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, config %+v", c)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// TestNewMakesNoRequest: building a function's handler needs no reachable
// AWS endpoint (nothing at init beyond configuration and clients).
func TestNewMakesNoRequest(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "x")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "y")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	for _, f := range authz.Functions() {
		c, err := lambdamain.LoadConfig(f, getenv(map[string]string{"TABLE_NAME": "t", "API_BASE_URL": "https://api.example.com"}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lambdamain.New(context.Background(), c, lambdamain.Function{ID: f, Build: stubHandlers(f)}, slog.New(slog.DiscardHandler)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// stubHandlers answers every operation of f with 204: New needs a handler
// for each of the function's routes, and this test links no handler package.
func stubHandlers(f authz.Function) lambdamain.Build {
	return func(d wiring.Deps, _ lambdamain.Config) authz.Handlers {
		hs := authz.Handlers{}
		for _, r := range d.Routes.ForFunction(f) {
			hs[r.Op()] = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		}
		return hs
	}
}
