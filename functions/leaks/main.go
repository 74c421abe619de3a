// Command leaks is the leaks Lambda function: it serves POST /v1/leaks
// (self-reports) and POST /v1/leaks/github (GitHub's secret scanning
// partner endpoint) behind API Gateway, without the authorizer.
// Configuration comes from the environment (see lambdamain.LoadConfig);
// GITHUB_KEYS_URL names GitHub's secret-scanning key document.
package main

import (
	"net/http"
	"time"

	"github.com/dotenv/apikeys/functions/leaks/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
	"github.com/dotenv/apikeys/shared/secretscan"
	"github.com/dotenv/apikeys/shared/wiring"
)

func main() {
	lambdamain.Main(lambdamain.Function{ID: authz.FunctionLeaks, Services: handler.Services(), Build: func(d wiring.Deps, cfg lambdamain.Config) authz.Handlers {
		keysURL := cfg.GitHubKeys
		if keysURL == "" {
			keysURL = secretscan.GitHubKeysURL
		}
		src := secretscan.SourceFor(keysURL, &http.Client{Timeout: 5 * time.Second})
		return handler.Handlers(d, handler.Config{GitHubKeys: secretscan.NewKeySet(src, time.Hour, d.Now, d.Logger)})
	}})
}
