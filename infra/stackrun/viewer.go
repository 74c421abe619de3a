package stackrun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"time"
)

// ViewerFunction is a CloudFront Function the distribution runs on viewer
// requests, run here under node (which CDK needs anyway) once per request.
// Node is not CloudFront's runtime (cloudfront-js-2.0 is a subset of
// ECMAScript): code node runs may still be refused by CloudFront, which
// only a deploy shows.
type ViewerFunction struct {
	id, code string
}

// NewViewerFunction is the CloudFront Function named id with code (its
// FunctionCode), to Run.
func NewViewerFunction(id, code string) *ViewerFunction { return &ViewerFunction{id: id, code: code} }

// viewerRequestFunction returns the function the template's distribution
// associates with viewer requests of its default behavior (nil when none).
func viewerRequestFunction(t Template) (*ViewerFunction, error) {
	fns := t.OfType("AWS::CloudFront::Function")
	for id, p := range t.OfType("AWS::CloudFront::Distribution") {
		dc, _ := p["DistributionConfig"].(map[string]any)
		beh, _ := dc["DefaultCacheBehavior"].(map[string]any)
		for _, a := range list(beh["FunctionAssociations"]) {
			m, _ := a.(map[string]any)
			if m["EventType"] != "viewer-request" {
				continue
			}
			arn, _ := m["FunctionARN"].(map[string]any)
			att, _ := arn["Fn::GetAtt"].([]any)
			if len(att) != 2 {
				return nil, fmt.Errorf("stackrun: distribution %s: viewer-request function %v is not a reference", id, m["FunctionARN"])
			}
			fid := fmt.Sprint(att[0])
			f, ok := fns[fid]
			if !ok {
				return nil, fmt.Errorf("stackrun: distribution %s: no CloudFront function %s", id, fid)
			}
			code, _ := f["FunctionCode"].(string)
			return &ViewerFunction{id: fid, code: code}, nil
		}
	}
	return nil, nil
}

// ViewerResult is what the function returned: a response (Status set) or
// the request to go on with.
type ViewerResult struct {
	Status int               `json:"statusCode"`
	URI    string            `json:"uri"`
	Query  string            `json:"query"`
	Header map[string]string `json:"headers"`
}

// nodeDriver runs the function's handler on the event read from stdin and
// writes what it returned, with the request's query string flattened.
const nodeDriver = `let s = ''; process.stdin.on('data', d => s += d).on('end', () => {
  const {code, event} = JSON.parse(s);
  const r = new Function(code + '\nreturn handler;')()(event);
  const out = {statusCode: r.statusCode || 0, uri: r.uri || '', headers: {}, query: ''};
  for (const k in (r.headers || {})) if (r.statusCode) out.headers[k] = r.headers[k].value;
  const qs = [];
  for (const k in (r.querystring || {})) {
    const v = r.querystring[k];
    (v.multiValue || [v]).forEach(m => qs.push(k + '=' + m.value));
  }
  out.query = qs.join('&');
  process.stdout.write(JSON.stringify(out));
});`

// Run runs the function under node on a viewer request for r.
func (f *ViewerFunction) Run(r *http.Request) (*ViewerResult, error) {
	type qv struct {
		Value      string `json:"value"`
		MultiValue []qv   `json:"multiValue,omitempty"`
	}
	qs := map[string]*qv{}
	if r.URL.RawQuery != "" {
		for _, pair := range strings.Split(r.URL.RawQuery, "&") {
			k, v, _ := strings.Cut(pair, "=")
			if q, ok := qs[k]; ok {
				if q.MultiValue == nil {
					q.MultiValue = []qv{{Value: q.Value}}
				}
				q.MultiValue = append(q.MultiValue, qv{Value: v})
			} else {
				qs[k] = &qv{Value: v}
			}
		}
	}
	headers := map[string]map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = map[string]string{"value": strings.Join(v, ",")}
	}
	in, err := json.Marshal(map[string]any{"code": f.code, "event": map[string]any{
		"version": "1.0", "context": map[string]any{"eventType": "viewer-request"},
		"viewer":  map[string]any{"ip": strings.Split(r.RemoteAddr, ":")[0]},
		"request": map[string]any{"method": r.Method, "uri": r.URL.EscapedPath(), "querystring": qs, "headers": headers, "cookies": map[string]any{}},
	}})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "-e", nodeDriver)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("stackrun: CloudFront function %s under node: %w: %s", f.id, err, stderr.String())
	}
	var res ViewerResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("stackrun: CloudFront function %s answered %q: %w", f.id, out, err)
	}
	return &res, nil
}

// apply runs the function for r: it answers w itself (true) when the
// function returned a response, else rewrites r's path and query to the
// request the function returned.
func (f *ViewerFunction) apply(w http.ResponseWriter, r *http.Request) bool {
	res, err := f.Run(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable) // CloudFront's answer to a failing function is a 503
		return true
	}
	if res.Status != 0 {
		for k, v := range res.Header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(res.Status)
		return true
	}
	u, err := url.Parse(res.URI)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return true
	}
	r.URL.Path, r.URL.RawPath, r.URL.RawQuery = u.Path, "", res.Query
	return false
}
