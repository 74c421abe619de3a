// Command explore is the explore Lambda function: it serves the routes of the
// route table that belong to authz.FunctionExplore behind API Gateway.
// Configuration comes from the environment (see lambdamain.LoadConfig);
// API_BASE_URL is the API's own base URL, the only one the explorer calls.
package main

import (
	"github.com/dotenv/apikeys/functions/lambdamain"
	"github.com/dotenv/apikeys/shared/authz"
)

func main() { lambdamain.Main(authz.FunctionExplore) }
