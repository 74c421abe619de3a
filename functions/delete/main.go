// Command delete is the delete Lambda function: it serves the routes of the
// route table that belong to authz.FunctionDelete behind API Gateway.
// Configuration comes from the environment (see lambdamain.LoadConfig).
package main

import (
	"github.com/dotenv/apikeys/functions/lambdamain"
	"github.com/dotenv/apikeys/shared/authz"
)

func main() { lambdamain.Main(authz.FunctionDelete) }
