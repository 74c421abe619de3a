package stackrun

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Site is what a deployment would have named: the pseudo parameters and
// the physical names CloudFormation and the services would choose, plus
// the local servers that stand in for public endpoints.
type Site struct {
	// Account, Region, Partition and URLSuffix are the pseudo parameters.
	Account, Region, Partition, URLSuffix string
	// StackName is AWS::StackName; physical names derive from it.
	StackName string
	// APIID is the id API Gateway would give the REST API (Ref of an
	// AWS::ApiGateway::RestApi).
	APIID string
	// CDNDomain is the distribution's domain name (Fn::GetAtt DomainName
	// of an AWS::CloudFront::Distribution).
	CDNDomain string
	// Tables maps a table's logical id to its local name; a table not
	// listed gets its TableName property or <stack>-<logical id>.
	Tables map[string]string
	// Hosts maps a public origin the template builds (e.g.
	// "https://<APIID>.execute-api.<Region>.<URLSuffix>") to the local
	// origin that answers for it ("http://127.0.0.1:<port>"): the stand-in
	// for DNS and TLS. Every resolved string has them replaced.
	Hosts map[string]string
	// Parameters are the values given to the template's parameters; a
	// parameter not given takes its Default (one with neither cannot be
	// resolved).
	Parameters map[string]string
}

// Resolver evaluates the intrinsic functions of a template (Ref,
// Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub) against a Site.
// A reference it cannot resolve is an error, never a guess.
type Resolver struct {
	refs  map[string]string
	attrs map[string]string
	hosts *strings.Replacer
}

// FunctionName is the physical name a Lambda function gets: what its Ref
// and the last part of its ARN resolve to.
func FunctionName(s Site, logicalID string) string { return s.StackName + "-" + logicalID }

// NewResolver gives each resource of t the values its Ref and its
// attributes have on site s.
func NewResolver(t Template, s Site) *Resolver {
	r := &Resolver{refs: map[string]string{
		"AWS::AccountId": s.Account, "AWS::Region": s.Region, "AWS::Partition": s.Partition,
		"AWS::URLSuffix": s.URLSuffix, "AWS::StackName": s.StackName,
	}, attrs: map[string]string{}}
	arn := func(service, resource string) string {
		return "arn:" + s.Partition + ":" + service + ":" + s.Region + ":" + s.Account + ":" + resource
	}
	params, _ := t["Parameters"].(map[string]any)
	for id, p := range params {
		if v, ok := s.Parameters[id]; ok {
			r.refs[id] = v
		} else if def, ok := p.(map[string]any)["Default"].(string); ok {
			r.refs[id] = def
		}
	}
	for id, res := range t.Resources() {
		r.refs[id] = id // the generic physical id
		switch res.Type {
		case "AWS::DynamoDB::Table":
			name := s.Tables[id]
			if name == "" {
				name, _ = res.Properties["TableName"].(string)
			}
			if name == "" {
				name = s.StackName + "-" + id
			}
			r.refs[id] = name
			r.attrs[id+".Arn"] = arn("dynamodb", "table/"+name)
		case "AWS::Lambda::Function":
			name := FunctionName(s, id)
			r.refs[id] = name
			r.attrs[id+".Arn"] = arn("lambda", "function:"+name)
		case "AWS::ApiGateway::RestApi":
			r.refs[id] = s.APIID
			r.attrs[id+".RootResourceId"] = id + "Root"
		case "AWS::ApiGateway::Stage":
			if n, ok := res.Properties["StageName"].(string); ok {
				r.refs[id] = n
			}
		case "AWS::CloudFront::Distribution":
			r.attrs[id+".DomainName"] = s.CDNDomain
		case "AWS::S3::Bucket":
			name := strings.ToLower(s.StackName + "-" + id)
			r.refs[id] = name
			r.attrs[id+".Arn"] = "arn:" + s.Partition + ":s3:::" + name
		}
	}
	var pairs []string
	origins := make([]string, 0, len(s.Hosts))
	for o := range s.Hosts {
		origins = append(origins, o)
	}
	sort.Strings(origins)
	for _, o := range origins {
		pairs = append(pairs, o, s.Hosts[o])
	}
	r.hosts = strings.NewReplacer(pairs...)
	return r
}

// String resolves v to a string, with the site's hosts replaced.
func (r *Resolver) String(v any) (string, error) {
	out, err := r.eval(v)
	if err != nil {
		return "", err
	}
	s, ok := out.(string)
	if !ok {
		return "", fmt.Errorf("stackrun: %v resolves to %T, not a string", v, out)
	}
	return r.hosts.Replace(s), nil
}

// Ref returns what {"Ref": id} resolves to.
func (r *Resolver) Ref(id string) (string, bool) {
	v, ok := r.refs[id]
	return v, ok
}

func (r *Resolver) eval(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, err := r.evalString(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	case map[string]any:
		if len(x) != 1 {
			return nil, fmt.Errorf("stackrun: %v is not an intrinsic function", x)
		}
		for fn, arg := range x {
			return r.intrinsic(fn, arg)
		}
	}
	return nil, fmt.Errorf("stackrun: cannot resolve %v (%T)", v, v)
}

func (r *Resolver) evalString(v any) (string, error) {
	out, err := r.eval(v)
	if err != nil {
		return "", err
	}
	s, ok := out.(string)
	if !ok {
		return "", fmt.Errorf("stackrun: %v is a list where a string is needed", v)
	}
	return s, nil
}

var subVar = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

func (r *Resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		id, _ := arg.(string)
		v, ok := r.refs[id]
		if !ok {
			return nil, fmt.Errorf("stackrun: Ref %q: no such resource or pseudo parameter", id)
		}
		return v, nil
	case "Fn::GetAtt":
		parts := list(arg)
		if s, ok := arg.(string); ok {
			parts = []any{}
			for _, p := range strings.SplitN(s, ".", 2) {
				parts = append(parts, p)
			}
		}
		if len(parts) != 2 {
			return nil, fmt.Errorf("stackrun: Fn::GetAtt %v: want [id, attribute]", arg)
		}
		key := fmt.Sprint(parts[0]) + "." + fmt.Sprint(parts[1])
		v, ok := r.attrs[key]
		if !ok {
			return nil, fmt.Errorf("stackrun: Fn::GetAtt %s: not known on this site", key)
		}
		return v, nil
	case "Fn::Join":
		a := list(arg)
		if len(a) != 2 {
			return nil, fmt.Errorf("stackrun: Fn::Join %v: want [delimiter, list]", arg)
		}
		sep, _ := a[0].(string)
		parts, err := r.eval(a[1])
		if err != nil {
			return nil, err
		}
		l, ok := parts.([]string)
		if !ok {
			return nil, fmt.Errorf("stackrun: Fn::Join of %v: not a list", a[1])
		}
		return strings.Join(l, sep), nil
	case "Fn::Split":
		a := list(arg)
		if len(a) != 2 {
			return nil, fmt.Errorf("stackrun: Fn::Split %v: want [delimiter, string]", arg)
		}
		sep, _ := a[0].(string)
		s, err := r.evalString(a[1])
		if err != nil {
			return nil, err
		}
		return strings.Split(s, sep), nil
	case "Fn::Select":
		a := list(arg)
		if len(a) != 2 {
			return nil, fmt.Errorf("stackrun: Fn::Select %v: want [index, list]", arg)
		}
		is, err := r.evalString(a[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, fmt.Errorf("stackrun: Fn::Select index %q: %w", is, err)
		}
		l, err := r.eval(a[1])
		if err != nil {
			return nil, err
		}
		ls, ok := l.([]string)
		if !ok || i < 0 || i >= len(ls) {
			return nil, fmt.Errorf("stackrun: Fn::Select %d of %v: out of range", i, l)
		}
		return ls[i], nil
	case "Fn::Sub":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("stackrun: Fn::Sub with variables is not supported: %v", arg)
		}
		var err error
		out := subVar.ReplaceAllStringFunc(s, func(m string) string {
			name := m[2 : len(m)-1]
			var v any
			var e error
			if id, attr, ok := strings.Cut(name, "."); ok {
				v, e = r.intrinsic("Fn::GetAtt", []any{id, attr})
			} else {
				v, e = r.intrinsic("Ref", name)
			}
			if e != nil {
				err = e
				return m
			}
			return v.(string)
		})
		return out, err
	}
	return nil, fmt.Errorf("stackrun: intrinsic function %s is not supported", fn)
}
