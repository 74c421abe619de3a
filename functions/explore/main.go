// Command explore is the explore Lambda function: it serves the routes of the
// route table that belong to authz.FunctionExplore behind API Gateway.
// Configuration comes from the environment (see lambdamain.LoadConfig);
// API_BASE_URL is the API's own base URL, the only one the explorer calls.
package main

import (
	"net/http"

	"github.com/dotenv/apikeys/functions/explore/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
	"github.com/dotenv/apikeys/shared/wiring"
)

func main() {
	lambdamain.Main(lambdamain.Function{ID: authz.FunctionExplore, Services: handler.Services(), Build: func(d wiring.Deps, cfg lambdamain.Config) authz.Handlers {
		return handler.Handlers(d, handler.Config{BaseURL: cfg.APIBaseURL, Client: &http.Client{Timeout: lambdamain.ExploreTimeout}})
	}})
}
