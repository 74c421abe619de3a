package stackrun_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/dotenv/apikeys/infra/stack"
)

// stackName is the synthesized stack's name, as infra/main.go names it.
const stackName = "DotEnvApiKeys"

// synthesize builds the stack of infra/main.go into outdir with the
// repository's cdk.json context (feature flags included), assetsDir holding
// <function>/bootstrap and dashboardDir the dashboard's files, and returns
// the cloud assembly's folder.
func synthesize(root, outdir, assetsDir, dashboardDir string) (string, error) {
	raw, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil {
		return "", err
	}
	var cdkJSON struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		return "", fmt.Errorf("cdk.json: %w", err)
	}
	ctx := maps.Clone(cdkJSON.Context)
	ctx[stack.CtxAssetsDir] = assetsDir
	ctx[stack.CtxDashboardDir] = dashboardDir
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	opts, err := stack.OptionsFromContext(app.Node())
	if err != nil {
		return "", err
	}
	if _, err := stack.New(app, stackName, nil, opts); err != nil {
		return "", err
	}
	asm := app.Synth(nil)
	return *asm.Directory(), nil
}
