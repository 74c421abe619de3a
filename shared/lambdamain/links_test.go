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

// shared names this module's shared packages.
const shared = module + "shared/"

// linksAllowed is, per kind of function, the module's shared packages a
// function may link (an allowlist: a new import fails until it is listed
// here with its reason). The store's packages are in every function: the
// DynamoDB store speaks the types of keys, directory, webhooks, usage and
// audit events, so which of their code a function runs is held by
// TestEachFunctionLinksOnlyTheCodeItUses, on the linked symbols.
var linksAllowed = struct{ store, http, event []string }{
	store: []string{"audit", "authz", "awsenv", "directory", "fault", "keys", "safehttp", "stdwebhook", "store", "store/dynamo", "store/dynamo/schema", "token", "usage", "webhook"},
	// Every route is authorized by the gate (its verifier, the limiter),
	// mounted by wiring on httpapi's router behind lambdahttp's adapter;
	// answer and wire shape the answers.
	http: []string{"answer", "gate", "httpapi", "lambdahttp", "lambdamain", "ratelimit", "verify", "wire", "wiring"},
	// The event functions share only their setup.
	event: []string{"lambdaevent"},
}

// linksOnlyIn are packages only some functions may link, by import path
// prefix (nil: none).
var linksOnlyIn = []struct {
	pkg string
	fns []authz.Function
}{
	{shared + "secretscan", []authz.Function{authz.FunctionLeaks}},
	// The SDK's loader and the credential providers it links (SSO, STS,
	// login, process, IMDS): Lambda hands the role's credentials in the
	// environment (shared/awsenv).
	{"github.com/aws/aws-sdk-go-v2/config", nil},
	{"github.com/aws/aws-sdk-go-v2/service/sts", nil},
	{"github.com/aws/aws-sdk-go-v2/service/sso", nil},
	{"github.com/aws/aws-sdk-go-v2/service/signin", nil},
	{"github.com/aws/aws-sdk-go-v2/feature/ec2/imds", nil},
	{"github.com/aws/aws-sdk-go-v2/credentials/", nil},
	{"github.com/aws/aws-sdk-go-v2/service/sqs", []authz.Function{authz.FunctionNotify}},
	{"github.com/awslabs/aws-lambda-go-api-proxy", authz.Functions()},
}

// TestEachFunctionLinksOnlyItsOperation: a Lambda function's bootstrap
// holds its own handler package and no other operation's, nor the single
// binary's composition (functions/edge/...), only the shared packages
// allowed for its kind (linksAllowed) and no package reserved to other
// functions (linksOnlyIn). `go list -deps` is what the linker gets.
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
			allowed := linksAllowed.store
			if slices.Contains(authz.EventFunctions(), f) {
				allowed = append(slices.Clone(allowed), linksAllowed.event...)
			} else {
				allowed = append(slices.Clone(allowed), linksAllowed.http...)
			}
			for _, d := range deps {
				if rel, ok := strings.CutPrefix(d, module+"functions/"); ok {
					if rel != string(f) && rel != string(f)+"/handler" {
						t.Errorf("links %s: a function links only its own operation", d)
					}
					continue
				}
				for _, o := range linksOnlyIn {
					if strings.HasPrefix(d, o.pkg) {
						if !slices.Contains(o.fns, f) {
							t.Errorf("links %s, which only %v may link", d, o.fns)
						}
					}
				}
				if rel, ok := strings.CutPrefix(d, shared); ok && !slices.Contains(allowed, rel) && !(rel == "secretscan" && f == authz.FunctionLeaks) {
					t.Errorf("links %s, not allowed for its kind of function (add it to linksAllowed with the reason)", d)
				}
			}
		})
	}
}

// services are code only some functions' operations run: the symbols
// (by prefix) that are the code, and the functions allowed to link it.
var services = []struct {
	code []string
	fns  []authz.Function
}{
	{[]string{shared + "secretscan."}, []authz.Function{authz.FunctionLeaks}},
	// Webhook destinations are checked where endpoints are created and
	// delivered to where deliveries are sent (notify's dispatcher only
	// sweeps and queues: it makes no client).
	{[]string{shared + "safehttp."}, []authz.Function{authz.FunctionWebhooks, authz.FunctionDeliver}},
	{[]string{shared + "stdwebhook.SetHeaders"}, []authz.Function{authz.FunctionDeliver}},
	{[]string{shared + "stdwebhook.NewSecret"}, []authz.Function{authz.FunctionWebhooks}},
	{[]string{shared + "webhook.(*Service).", shared + "webhook.NewService"}, []authz.Function{authz.FunctionWebhooks}},
	// Key changes write their pending notices through the dispatcher.
	{[]string{shared + "webhook.(*Dispatcher)."}, []authz.Function{authz.FunctionCreate, authz.FunctionEdit, authz.FunctionRotate, authz.FunctionDelete, authz.FunctionLeaks, authz.FunctionNotify, authz.FunctionDeliver}},
	{[]string{shared + "keys.(*Service).", shared + "keys.NewService"}, []authz.Function{authz.FunctionCreate, authz.FunctionShow, authz.FunctionEdit, authz.FunctionRotate, authz.FunctionDelete, authz.FunctionExplore, authz.FunctionLeaks}},
	{[]string{shared + "directory.(*Service).", shared + "directory.NewService"}, []authz.Function{authz.FunctionDirectory, authz.FunctionExplore}},
	// Usage is counted, and authorizer events answered, by verify only.
	{[]string{shared + "usage.(*Recorder)."}, []authz.Function{authz.FunctionVerify}},
	{[]string{shared + "lambdahttp.Authorizer"}, []authz.Function{authz.FunctionVerify}},
	// Requests are authorized on the functions that serve routes.
	{[]string{shared + "gate."}, authz.Functions()},
	{[]string{shared + "verify.(*Verifier)."}, authz.Functions()},
}

// TestEachFunctionLinksOnlyTheCodeItUses builds every function as the
// emulator runs it (this machine, symbols kept) and reads the symbols the
// linker kept: a service's code (services) is only in the functions whose
// operation calls it. Package initializers do not count (importing a
// package links its init); the code is what the linker could not drop.
func TestEachFunctionLinksOnlyTheCodeItUses(t *testing.T) {
	root, err := proctest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fns := append(authz.Functions(), authz.EventFunctions()...)
	// One go build of every function (they build in parallel), each
	// binary named after its folder.
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-o", dir + string(filepath.Separator)}
	for _, f := range fns {
		args = append(args, "./functions/"+string(f))
	}
	build := exec.Command("go", args...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, f := range fns {
		t.Run(string(f), func(t *testing.T) {
			bin := filepath.Join(dir, string(f))
			nm := exec.Command("go", "tool", "nm", bin)
			nm.Dir = root
			out, err := nm.Output()
			if err != nil {
				t.Fatalf("go tool nm: %v", err)
			}
			linked := map[int]string{}
			for _, line := range strings.Split(string(out), "\n") {
				fields := strings.Fields(line)
				if len(fields) < 3 || (fields[1] != "T" && fields[1] != "t") {
					continue
				}
				sym := fields[2]
				if strings.HasSuffix(sym, ".init") || strings.Contains(sym, ".init.") {
					continue
				}
				for i, s := range services {
					for _, c := range s.code {
						if _, seen := linked[i]; !seen && strings.HasPrefix(sym, c) {
							linked[i] = sym
						}
					}
				}
			}
			for i, s := range services {
				sym, in := linked[i]
				switch may := slices.Contains(s.fns, f); {
				case in && !may:
					t.Errorf("links %s: only %v run that code", sym, s.fns)
				case !in && may:
					t.Errorf("links no %s…: the table says it runs that code; update the table if that changed", s.code)
				}
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
