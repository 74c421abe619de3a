package stackrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dotenv/apikeys/shared/lambdatest"
)

// DeployConfig is what Deploy needs.
type DeployConfig struct {
	// Assembly is the synthesized stack (its Template may be a mutated
	// copy).
	Assembly *Assembly
	// RIE is the aws-lambda-rie binary (lambdatest.BuildRIE).
	RIE string
	// DynamoDB creates the tables; FunctionEnv is added to every
	// function's environment before the template's variables, as Lambda
	// adds AWS_REGION and the role's credentials: here the local
	// server's endpoint, region and dummy credentials.
	DynamoDB    *dynamodb.Client
	FunctionEnv []string
	// Account and Region are the pseudo parameters (defaults
	// 123456789012 and us-east-1).
	Account, Region string
}

// Deployment is a stack running on this machine.
type Deployment struct {
	// APIURL is the stage's URL (http://127.0.0.1:<port>/<stage>);
	// DashboardURL the distribution's (http://127.0.0.1:<port>).
	APIURL, DashboardURL string
	// PublicAPIOrigin and PublicDashboardOrigin are the origins the
	// template builds for them, which every resolved value has replaced
	// by the local ones.
	PublicAPIOrigin, PublicDashboardOrigin string
	// Tables maps each table's logical id to its local name.
	Tables map[string]string
	// Gateway serves the API; Functions are the Lambda functions by
	// logical id.
	Gateway   *Gateway
	Functions map[string]*lambdatest.Emulator
	// Bootstraps maps each started function's logical id to the
	// bootstrap it runs (in the staged asset its Code names), so a test
	// can tell which program answered.
	Bootstraps map[string]string
	closers    []func()
}

// Close stops the servers and the functions and deletes the tables.
func (d *Deployment) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// Deploy runs the assembly's stack: it creates each AWS::DynamoDB::Table
// from its template definition, starts every Lambda function an API method
// or authorizer integrates, from the staged asset its Code names, with its
// resolved environment, serves the REST API's stage and the dashboard
// bucket on loopback ports. On error, what was started is stopped.
func Deploy(ctx context.Context, cfg DeployConfig) (_ *Deployment, err error) {
	d := &Deployment{Tables: map[string]string{}, Functions: map[string]*lambdatest.Emulator{}, Bootstraps: map[string]string{}}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	t := cfg.Assembly.Template
	apiLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("stackrun: %w", err)
	}
	d.closers = append(d.closers, func() { apiLn.Close() })
	webLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("stackrun: %w", err)
	}
	d.closers = append(d.closers, func() { webLn.Close() })

	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	suffix := hex.EncodeToString(rnd[:])
	site := Site{Account: cfg.Account, Region: cfg.Region, Partition: "aws", URLSuffix: "amazonaws.com",
		StackName: cfg.Assembly.Stack, APIID: "local" + suffix, CDNDomain: "d" + suffix + ".cloudfront.net",
		Tables: map[string]string{}}
	if site.Account == "" {
		site.Account = "123456789012"
	}
	if site.Region == "" {
		site.Region = "us-east-1"
	}
	for id := range t.OfType("AWS::DynamoDB::Table") {
		site.Tables[id] = cfg.Assembly.Stack + "-" + id + "-" + suffix
	}
	d.PublicAPIOrigin = "https://" + site.APIID + ".execute-api." + site.Region + "." + site.URLSuffix
	d.PublicDashboardOrigin = "https://" + site.CDNDomain
	d.APIURL = "http://" + apiLn.Addr().String()
	d.DashboardURL = "http://" + webLn.Addr().String()
	site.Hosts = map[string]string{d.PublicAPIOrigin: d.APIURL, d.PublicDashboardOrigin: d.DashboardURL}
	res := NewResolver(t, site)

	for id, p := range t.OfType("AWS::DynamoDB::Table") {
		if err := createTable(ctx, cfg.DynamoDB, site.Tables[id], p); err != nil {
			return nil, fmt.Errorf("stackrun: table %s: %w", id, err)
		}
		name := site.Tables[id]
		d.Tables[id] = name
		d.closers = append(d.closers, func() {
			_, _ = cfg.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		})
	}

	// The functions the API reaches.
	wanted := map[string]bool{}
	lambdas := t.OfType("AWS::Lambda::Function")
	ids := slices.Collect(maps.Keys(lambdas))
	for _, m := range t.OfType("AWS::ApiGateway::Method") {
		integ, _ := m["Integration"].(map[string]any)
		if integ["Type"] == "AWS_PROXY" {
			fn, err := functionOf(res, ids, integ["Uri"])
			if err != nil {
				return nil, err
			}
			wanted[fn] = true
		}
	}
	for id, a := range t.OfType("AWS::ApiGateway::Authorizer") {
		fn, err := functionOf(res, ids, a["AuthorizerUri"])
		if err != nil {
			return nil, fmt.Errorf("stackrun: authorizer %s: %w", id, err)
		}
		wanted[fn] = true
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for id := range wanted {
		boot, env, err := functionSetup(cfg.Assembly, res, id, lambdas[id])
		if err != nil {
			return nil, err
		}
		d.Bootstraps[id] = boot
		wg.Add(1)
		go func() {
			defer wg.Done()
			em, err := lambdatest.StartEmulator(ctx, lambdatest.EmulatorConfig{RIE: cfg.RIE, Bootstrap: boot, Env: append(append([]string{}, cfg.FunctionEnv...), env...)})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("stackrun: function %s: %w", id, err))
				return
			}
			d.Functions[id] = em
			d.closers = append(d.closers, func() { _ = em.Close() })
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	invokers := map[string]Invoker{}
	for id := range lambdas {
		if em, ok := d.Functions[id]; ok {
			invokers[id] = em
		} else {
			invokers[id] = notStarted(id)
		}
	}
	d.Gateway, err = NewGateway(GatewayConfig{Template: t, Resolver: res, Site: site, Functions: invokers})
	if err != nil {
		return nil, err
	}
	d.APIURL += "/" + d.Gateway.stage
	web, err := dashboard(cfg.Assembly, res)
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		ln net.Listener
		h  http.Handler
	}{{apiLn, d.Gateway}, {webLn, web}} {
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(s.ln) }()
		d.closers = append(d.closers, func() { _ = srv.Close() })
	}
	return d, nil
}

// notStarted is a function no method or authorizer integrates.
type notStarted string

func (n notStarted) Invoke(context.Context, []byte) ([]byte, error) {
	return nil, fmt.Errorf("stackrun: function %s was not started: nothing integrates it", string(n))
}

// functionSetup returns a function's bootstrap (from the staged asset its
// Code's S3Key names) and its resolved environment.
func functionSetup(a *Assembly, res *Resolver, id string, p map[string]any) (string, []string, error) {
	if rt, _ := p["Runtime"].(string); !strings.HasPrefix(rt, "provided") {
		return "", nil, fmt.Errorf("stackrun: function %s: runtime %q, only provided.* (a bootstrap) runs here", id, rt)
	}
	code, _ := p["Code"].(map[string]any)
	key, err := res.String(code["S3Key"])
	if err != nil {
		return "", nil, fmt.Errorf("stackrun: function %s: Code.S3Key: %w", id, err)
	}
	dir, err := a.AssetDir(key)
	if err != nil {
		return "", nil, fmt.Errorf("stackrun: function %s: %w", id, err)
	}
	boot := filepath.Join(dir, "bootstrap")
	if st, err := os.Stat(boot); err != nil || st.Mode()&0o111 == 0 {
		return "", nil, fmt.Errorf("stackrun: function %s: no executable bootstrap in its asset %s", id, dir)
	}
	envProp, _ := p["Environment"].(map[string]any)
	vars, _ := envProp["Variables"].(map[string]any)
	var env []string
	for k, v := range vars {
		s, err := res.String(v)
		if err != nil {
			return "", nil, fmt.Errorf("stackrun: function %s: environment %s: %w", id, k, err)
		}
		env = append(env, k+"="+s)
	}
	return boot, env, nil
}

// createTable creates a table from its AWS::DynamoDB::Table properties
// (keys, attribute definitions, global secondary indexes, billing mode)
// and turns its TTL on. Point-in-time recovery, deletion protection and
// encryption settings have no effect on a local server.
func createTable(ctx context.Context, c *dynamodb.Client, name string, p map[string]any) error {
	var in dynamodb.CreateTableInput
	b, err := json.Marshal(map[string]any{
		"KeySchema": p["KeySchema"], "AttributeDefinitions": p["AttributeDefinitions"],
		"GlobalSecondaryIndexes": p["GlobalSecondaryIndexes"], "LocalSecondaryIndexes": p["LocalSecondaryIndexes"],
	})
	if err == nil {
		err = json.Unmarshal(b, &in)
	}
	if err != nil {
		return fmt.Errorf("reading its definition: %w", err)
	}
	in.TableName = aws.String(name)
	in.BillingMode = types.BillingModePayPerRequest
	if bm, _ := p["BillingMode"].(string); bm == "PROVISIONED" {
		in.BillingMode = types.BillingModeProvisioned
	}
	if _, err := c.CreateTable(ctx, &in); err != nil {
		return fmt.Errorf("CreateTable: %w", err)
	}
	if err := dynamodb.NewTableExistsWaiter(c).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("waiting for the table: %w", err)
	}
	if ttl, _ := p["TimeToLiveSpecification"].(map[string]any); ttl["Enabled"] == true {
		attr, _ := ttl["AttributeName"].(string)
		if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("UpdateTimeToLive: %w", err)
		}
	}
	return nil
}

// dashboard serves what the template's Custom::CDKBucketDeployment would
// put in the bucket: each source asset's files, with the markers the
// deployment fills in (SourceMarkers, JSON-escaped when its
// SourceMarkersConfig says so) replaced by their resolved values. "/"
// serves the distribution's DefaultRootObject. The distribution's
// viewer-request function, when it has one, runs first (under node): it
// may answer (a redirect) or rewrite the path.
func dashboard(a *Assembly, res *Resolver) (http.Handler, error) {
	files := map[string][]byte{}
	for id, p := range a.Template.OfType("Custom::CDKBucketDeployment") {
		keys := list(p["SourceObjectKeys"])
		markers := list(p["SourceMarkers"])
		configs := list(p["SourceMarkersConfig"])
		for i, k := range keys {
			dir, err := a.AssetDir(fmt.Sprint(k))
			if err != nil {
				return nil, fmt.Errorf("stackrun: %s: %w", id, err)
			}
			var pairs []string
			if i < len(markers) {
				m, _ := markers[i].(map[string]any)
				escape := false
				if i < len(configs) {
					c, _ := configs[i].(map[string]any)
					escape = c["jsonEscape"] == true
				}
				for name, v := range m {
					s, err := res.String(v)
					if err != nil {
						return nil, fmt.Errorf("stackrun: %s: marker %s: %w", id, name, err)
					}
					if escape {
						q, _ := json.Marshal(s)
						s = string(q[1 : len(q)-1])
					}
					pairs = append(pairs, name, s)
				}
			}
			rep := strings.NewReplacer(pairs...)
			err = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
				if err != nil || e.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				if len(pairs) > 0 {
					// The filled-in URLs name public hosts: the local
					// servers answer for them.
					b = []byte(res.hosts.Replace(rep.Replace(string(b))))
				}
				files["/"+filepath.ToSlash(rel)] = b
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("stackrun: %s: %w", id, err)
			}
		}
	}
	rootObject := ""
	for _, p := range a.Template.OfType("AWS::CloudFront::Distribution") {
		dc, _ := p["DistributionConfig"].(map[string]any)
		rootObject, _ = dc["DefaultRootObject"].(string)
	}
	viewer, err := viewerRequestFunction(a.Template)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if viewer != nil && viewer.apply(w, r) {
			return
		}
		p := r.URL.Path
		if p == "/" && rootObject != "" {
			p = "/" + rootObject
		}
		b, ok := files[p]
		if !ok {
			http.Error(w, "NoSuchKey", http.StatusForbidden) // S3 behind OAC: 403 for a missing object
			return
		}
		switch {
		case strings.HasSuffix(p, ".json"):
			w.Header().Set("Content-Type", "application/json")
		case strings.HasSuffix(p, ".html"):
			w.Header().Set("Content-Type", "text/html")
		}
		_, _ = w.Write(b)
	}), nil
}
