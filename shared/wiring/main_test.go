package wiring_test

import (
	"os"
	"testing"

	"github.com/dotenv/apikeys/shared/store/dynamo/dynamotest"
)

// dynamoServers are the DynamoDB-compatible servers (moto served one request
// at a time, and dynalite) that eachEngine runs scenarios on; TestMain
// starts them once for the package.
var dynamoServers *dynamotest.Env

func TestMain(m *testing.M) {
	os.Exit(dynamotest.Main(m, func(e *dynamotest.Env) { dynamoServers = e }))
}
