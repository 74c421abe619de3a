package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestInfraLinksNoDomain: the CDK app renders the gateway's answers and the
// table from plain data (shared/httpapi's problem shapes, the route table,
// shared/store/dynamo/schema); it never links the key domain, verification,
// the directory or tokens.
func TestInfraLinksNoDomain(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/dotenv/apikeys/infra/...").Output()
	if err != nil {
		t.Fatalf("go list -deps ./infra/...: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list -deps listed nothing")
	}
	forbidden := []string{"shared/keys", "shared/verify", "shared/directory", "shared/token", "shared/store/dynamo", "shared/gate", "shared/wiring"}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == "github.com/dotenv/apikeys/"+f {
				t.Errorf("infra links %s", d)
			}
		}
	}
}
