package lambdamain_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/proctest"
)

const module = "github.com/dotenv/apikeys/"

// TestEachFunctionLinksOnlyItsOperation: a Lambda function's bootstrap
// holds its own handler package and no other operation's, nor the single
// binary's composition (functions/edge/...). `go list -deps` is what the
// linker gets.
func TestEachFunctionLinksOnlyItsOperation(t *testing.T) {
	root, err := proctest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(authz.Functions(), authz.EventFunctions()...) {
		t.Run(string(f), func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./functions/"+string(f))
			cmd.Dir = root
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list -deps ./functions/%s: %v", f, err)
			}
			deps := strings.Fields(string(out))
			own := module + "functions/" + string(f) + "/handler"
			if !slices.Contains(deps, own) {
				t.Errorf("does not link its own handler package %s", own)
			}
			for _, d := range deps {
				rel, ok := strings.CutPrefix(d, module+"functions/")
				if !ok || rel == string(f) || rel == string(f)+"/handler" {
					continue
				}
				t.Errorf("links %s: a function links only its own operation", d)
			}
		})
	}
}

// TestFunctionsFolderListsTheLambdas: functions/ holds one folder per
// Lambda function (those serving routes and the event-driven ones) and the
// single binary (edge), nothing else, so the
// folder reads as the list of functions.
func TestFunctionsFolderListsTheLambdas(t *testing.T) {
	root, err := proctest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.IsDir() {
			got = append(got, e.Name())
		}
	}
	want := []string{"edge"}
	for _, f := range append(authz.Functions(), authz.EventFunctions()...) {
		want = append(want, string(f))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("functions/ holds %v, want the functions and edge: %v", got, want)
	}
}
