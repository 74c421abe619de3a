// Package stackrun serves a synthesized CDK stack on this machine the way
// AWS would run it, for tests: the REST API of the template (its resources,
// methods, REQUEST authorizers with their identity sources and result
// cache, proxy integrations, CORS mocks and gateway responses), each
// Lambda function from the asset the template names under the Lambda
// Runtime Interface Emulator with the template's environment, the
// DynamoDB table created from the template's own definition, and the
// dashboard bucket's files with the values a BucketDeployment fills in.
//
// Everything is read from the cloud assembly (the template and its asset
// manifest), never from the route table: a method without its authorizer,
// a function pointed at another asset or a wrong environment variable in
// the template is what runs. What it does not emulate (IAM, throttling,
// WAF, CloudFront, mapping templates beyond the CORS mocks) is listed in
// infra/README.md.
package stackrun

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Template is a CloudFormation template's JSON.
type Template map[string]any

// Resource is one resource of a template.
type Resource struct {
	// Type is the CloudFormation type, e.g. "AWS::Lambda::Function".
	Type string
	// Properties are its properties (nil when it has none).
	Properties map[string]any
}

// Resources returns the template's resources by logical id.
func (t Template) Resources() map[string]Resource {
	out := map[string]Resource{}
	rs, _ := t["Resources"].(map[string]any)
	for id, r := range rs {
		m, _ := r.(map[string]any)
		typ, _ := m["Type"].(string)
		props, _ := m["Properties"].(map[string]any)
		out[id] = Resource{Type: typ, Properties: props}
	}
	return out
}

// OfType returns logical id → properties of the resources of one type.
func (t Template) OfType(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range t.Resources() {
		if r.Type == typ {
			out[id] = r.Properties
		}
	}
	return out
}

// Clone returns a deep copy, for tests that mutate a template.
func (t Template) Clone() Template {
	b, err := json.Marshal(t)
	if err != nil {
		panic(fmt.Sprintf("stackrun: a template's JSON does not marshal: %v", err))
	}
	var c Template
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("stackrun: a template's JSON does not unmarshal: %v", err))
	}
	return c
}

// Assembly is one stack of a cloud assembly (cdk.out): its template and
// where its file assets were staged.
type Assembly struct {
	// Dir is the cloud assembly's folder.
	Dir string
	// Stack is the stack's name.
	Stack string
	// Template is the stack's template; callers may replace it (a mutated
	// copy) before Deploy.
	Template Template
	// assets maps an asset's S3 object key (what the template names) to
	// the staged file or folder.
	assets map[string]asset
}

type asset struct {
	path      string
	packaging string
}

// ReadAssembly reads <dir>/<stack>.template.json and the asset manifest
// <dir>/<stack>.assets.json, which maps each asset (by the hash the
// template's object keys carry) to the folder or file CDK staged in dir.
func ReadAssembly(dir, stack string) (*Assembly, error) {
	a := &Assembly{Dir: dir, Stack: stack, assets: map[string]asset{}}
	raw, err := os.ReadFile(filepath.Join(dir, stack+".template.json"))
	if err != nil {
		return nil, fmt.Errorf("stackrun: reading the template: %w", err)
	}
	if err := json.Unmarshal(raw, &a.Template); err != nil {
		return nil, fmt.Errorf("stackrun: %s.template.json: %w", stack, err)
	}
	raw, err = os.ReadFile(filepath.Join(dir, stack+".assets.json"))
	if err != nil {
		return nil, fmt.Errorf("stackrun: reading the asset manifest: %w", err)
	}
	var manifest struct {
		Files map[string]struct {
			Source struct {
				Path      string `json:"path"`
				Packaging string `json:"packaging"`
			} `json:"source"`
			Destinations map[string]struct {
				ObjectKey string `json:"objectKey"`
			} `json:"destinations"`
		} `json:"files"`
	}
	if err := json.Unmarshal(raw, &manifest); err != nil {
		return nil, fmt.Errorf("stackrun: %s.assets.json: %w", stack, err)
	}
	for hash, f := range manifest.Files {
		p := f.Source.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		keys := map[string]bool{}
		for _, d := range f.Destinations {
			keys[d.ObjectKey] = true
		}
		if len(keys) == 0 {
			keys[hash] = true
		}
		for k := range keys {
			a.assets[k] = asset{path: p, packaging: f.Source.Packaging}
		}
	}
	return a, nil
}

// AssetDir returns the staged folder of the zip asset the template names by
// its S3 object key ("<hash>.zip"): the folder Lambda would unpack the
// function's code from.
func (a *Assembly) AssetDir(objectKey string) (string, error) {
	as, ok := a.assets[objectKey]
	if !ok {
		return "", fmt.Errorf("stackrun: no asset with object key %q in %s.assets.json", objectKey, a.Stack)
	}
	if as.packaging != "zip" {
		return "", fmt.Errorf("stackrun: asset %q is packaged as %q, not a folder to zip", objectKey, as.packaging)
	}
	if st, err := os.Stat(as.path); err != nil || !st.IsDir() {
		return "", fmt.Errorf("stackrun: asset %q: staged folder %s missing (%v)", objectKey, as.path, err)
	}
	return as.path, nil
}

// list turns a CloudFormation "one or many" value into a slice.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// unquote strips the single quotes API Gateway puts around static values
// in response parameters ("'application/json'").
func unquote(s string) (string, bool) {
	if len(s) >= 2 && strings.HasPrefix(s, "'") && strings.HasSuffix(s, "'") {
		return s[1 : len(s)-1], true
	}
	return s, false
}
