package client_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedClientIsCurrent regenerates the client from
// docs/openapi.json into a temporary directory and fails when it differs
// from the committed client.gen.go: a document change that changes (or
// breaks) generated clients must come with the regenerated client, so it
// shows in review. Fix: go generate ./shared/openapi/client/.
func TestGeneratedClientIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	out := filepath.Join(t.TempDir(), "client.gen.go")
	cmd := exec.Command("go", "run", "./gen", "-in", "../../../docs/openapi.json", "-out", out, "-config", "cfg.yaml")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("generating the client: %v\n%s", err, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if !bytes.Equal(gl[i], wl[i]) {
				t.Fatalf("client.gen.go is stale (run go generate ./shared/openapi/client/): line %d is\n\t%s\nbut the document generates\n\t%s", i+1, wl[i], gl[i])
			}
		}
		t.Fatalf("client.gen.go is stale (run go generate ./shared/openapi/client/): %d lines, the document generates %d", len(wl), len(gl))
	}
}
