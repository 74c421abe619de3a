// Command edit is the edit Lambda function: it serves the routes of the
// route table that belong to authz.FunctionEdit behind API Gateway.
// Configuration comes from the environment (see lambdamain.LoadConfig).
package main

import (
	"github.com/dotenv/apikeys/functions/edit/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
)

func main() {
	lambdamain.Main(lambdamain.Function{ID: authz.FunctionEdit, Build: lambdamain.Plain(handler.Handlers), Services: handler.Services()})
}
