// Command webhooks is the webhooks Lambda function: it serves the routes of
// the route table that belong to authz.FunctionWebhooks behind API Gateway.
// Configuration comes from the environment (see lambdamain.LoadConfig).
package main

import (
	"github.com/dotenv/apikeys/functions/webhooks/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
)

func main() {
	lambdamain.Main(authz.FunctionWebhooks, lambdamain.Plain(handler.Handlers), handler.Services()...)
}
