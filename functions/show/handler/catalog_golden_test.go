package handler_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/wire"
)

var update = flag.Bool("update", false, "rewrite the dashboard's catalog fixture")

// The dashboard's unit tests run on web/src/fixtures/catalog.json; this test
// keeps it equal to what GET /v1/permissions answers, so the dashboard's
// rules are tested against the real catalog and route table.
func TestDashboardCatalogFixture(t *testing.T) {
	want, err := json.MarshalIndent(wire.NewCatalog(authz.NewCatalog(), authz.NewRoutes()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	path := filepath.Join("..", "..", "..", "web", "src", "fixtures", "catalog.json")
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from GET /v1/permissions: run `go test ./functions/show/handler -update`, then `cd web && npm test`", path)
	}
}
