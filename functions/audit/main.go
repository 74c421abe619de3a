// Command audit is the audit Lambda function: it serves the routes of the
// route table that belong to authz.FunctionAudit (GET /v1/audit-events)
// behind API Gateway. Configuration comes from the environment (see
// lambdamain.LoadConfig).
package main

import (
	"github.com/dotenv/apikeys/functions/audit/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
)

func main() {
	lambdamain.Main(lambdamain.Function{ID: authz.FunctionAudit, Build: lambdamain.Plain(handler.Handlers), Services: handler.Services()})
}
