// Command audit is the audit Lambda function: it serves the routes of the
// route table that belong to authz.FunctionAudit (GET /v1/audit-events)
// behind API Gateway. Configuration comes from the environment (see
// lambdamain.LoadConfig). An export answer is capped below Lambda's 6 MB
// synchronous answer limit (handler.LambdaExportCap) and continued through
// its Link header.
package main

import (
	"github.com/dotenv/apikeys/functions/audit/handler"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/lambdamain"
	"github.com/dotenv/apikeys/shared/wiring"
)

func main() {
	lambdamain.Main(lambdamain.Function{
		ID: authz.FunctionAudit,
		Build: func(d wiring.Deps, _ lambdamain.Config) authz.Handlers {
			return handler.Handlers(d, handler.WithExportCap(handler.LambdaExportCap))
		},
		Services: handler.Services(),
	})
}
