// Command verify is the verify Lambda function: it serves POST /v1/verify
// and GET /healthz as proxy events, and answers the REST API's REQUEST
// authorizer events for every other route (lambdahttp.Authorize).
// Configuration comes from the environment (see lambdamain.LoadConfig).
package main

import (
	"github.com/dotenv/apikeys/functions/verify/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
)

func main() {
	lambdamain.Main(lambdamain.Function{ID: authz.FunctionVerify, Build: lambdamain.Plain(handler.Handlers), Services: handler.Services(), Door: lambdamain.VerifyDoor()})
}
