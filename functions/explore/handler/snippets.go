package handler

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// TokenVariable is the environment variable the snippets read the token
// from; they never contain the token itself.
const TokenVariable = "DOTENV_API_KEY"

// Snippets are the explored call written as code.
type Snippets struct {
	Curl       string `json:"curl"`
	Go         string `json:"go"`
	JavaScript string `json:"javascript"`
	Python     string `json:"python"`
}

// NewSnippets writes the call in curl, Go, JavaScript and Python.
func NewSnippets(base, method, path string, headers map[string]string, body json.RawMessage) Snippets {
	url := strings.TrimRight(base, "/") + path
	hdrs := map[string]string{}
	for k, v := range headers {
		hdrs[k] = v
	}
	if body != nil && hdrs["Content-Type"] == "" {
		hdrs["Content-Type"] = "application/json"
	}
	names := make([]string, 0, len(hdrs))
	for k := range hdrs {
		names = append(names, k)
	}
	sort.Strings(names)
	return Snippets{
		Curl:       curl(url, method, names, hdrs, body),
		Go:         goSnippet(url, method, names, hdrs, body),
		JavaScript: jsSnippet(url, method, names, hdrs, body),
		Python:     pySnippet(url, method, names, hdrs, body),
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func curl(url, method string, names []string, hdrs map[string]string, body json.RawMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "curl -X %s %s \\\n  -H \"Authorization: Bearer $%s\"", method, shellQuote(url), TokenVariable)
	for _, k := range names {
		fmt.Fprintf(&b, " \\\n  -H %s", shellQuote(k+": "+hdrs[k]))
	}
	if body != nil {
		fmt.Fprintf(&b, " \\\n  --data %s", shellQuote(string(body)))
	}
	return b.String()
}

func goSnippet(url, method string, names []string, hdrs map[string]string, body json.RawMessage) string {
	var b strings.Builder
	b.WriteString("package main\n\nimport (\n\t\"fmt\"\n\t\"io\"\n\t\"net/http\"\n\t\"os\"\n\t\"strings\"\n)\n\nfunc main() {\n")
	bodyExpr := "nil"
	if body != nil {
		fmt.Fprintf(&b, "\tbody := strings.NewReader(%s)\n", strconv.Quote(string(body)))
		bodyExpr = "body"
	} else {
		b.WriteString("\t_ = strings.NewReader\n")
	}
	fmt.Fprintf(&b, "\treq, err := http.NewRequest(%s, %s, %s)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n", strconv.Quote(method), strconv.Quote(url), bodyExpr)
	fmt.Fprintf(&b, "\treq.Header.Set(\"Authorization\", \"Bearer \"+os.Getenv(%s))\n", strconv.Quote(TokenVariable))
	for _, k := range names {
		fmt.Fprintf(&b, "\treq.Header.Set(%s, %s)\n", strconv.Quote(k), strconv.Quote(hdrs[k]))
	}
	b.WriteString("\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\tpanic(err)\n\t}\n\tdefer resp.Body.Close()\n\tout, _ := io.ReadAll(resp.Body)\n\tfmt.Println(resp.Status, string(out))\n}\n")
	return b.String()
}

// jsonString quotes s as a JSON string, which is also a valid JavaScript
// and Python string literal.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func jsSnippet(url, method string, names []string, hdrs map[string]string, body json.RawMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, "const res = await fetch(%s, {\n  method: %s,\n  headers: {\n    Authorization: `Bearer ${process.env.%s}`,\n", jsonString(url), jsonString(method), TokenVariable)
	for _, k := range names {
		fmt.Fprintf(&b, "    %s: %s,\n", jsonString(k), jsonString(hdrs[k]))
	}
	b.WriteString("  },\n")
	if body != nil {
		fmt.Fprintf(&b, "  body: %s,\n", jsonString(string(body)))
	}
	b.WriteString("});\nconsole.log(res.status, await res.text());\n")
	return b.String()
}

func pySnippet(url, method string, names []string, hdrs map[string]string, body json.RawMessage) string {
	var b strings.Builder
	b.WriteString("import os\nimport requests\n\n")
	fmt.Fprintf(&b, "headers = {\n    \"Authorization\": \"Bearer \" + os.environ[%s],\n", jsonString(TokenVariable))
	for _, k := range names {
		fmt.Fprintf(&b, "    %s: %s,\n", jsonString(k), jsonString(hdrs[k]))
	}
	b.WriteString("}\n")
	data := ""
	if body != nil {
		data = ", data=" + jsonString(string(body))
	}
	fmt.Fprintf(&b, "res = requests.request(%s, %s, headers=headers%s)\nprint(res.status_code, res.text)\n", jsonString(method), jsonString(url), data)
	return b.String()
}
