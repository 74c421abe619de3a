// Command directory is the directory Lambda function: it serves the routes of the
// route table that belong to authz.FunctionDirectory behind API Gateway.
// Configuration comes from the environment (see lambdamain.LoadConfig).
package main

import (
	"github.com/dotenv/apikeys/functions/directory/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
)

func main() {
	lambdamain.Main(lambdamain.Function{ID: authz.FunctionDirectory, Build: lambdamain.Plain(handler.Handlers), Services: handler.Services()})
}
