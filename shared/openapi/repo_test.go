package openapi_test

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
)

// repoRoot is the module's root directory, relative to this package.
const repoRoot = "../.."

// skipDir reports whether a directory holds no source of the repository:
// VCS data, installed or built output, local data.
func skipDir(rel string, d fs.DirEntry) bool {
	name := d.Name()
	if rel != "." && strings.HasPrefix(name, ".") {
		return true
	}
	switch name {
	case "node_modules", "cdk.out", "bin", "build", "data":
		return true
	}
	return rel == filepath.Join("web", "dist")
}

// walkRepo calls fn for every file of the repository outside skipDir, with
// its path relative to the root.
func walkRepo(t *testing.T, fn func(rel string)) {
	t.Helper()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(repoRoot, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDir(rel, d) {
				return filepath.SkipDir
			}
			return nil
		}
		fn(rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walking the repository: %v", err)
	}
}

// TestEveryPackageHasADocComment: every Go package of the module (test data
// left out) says what it is for in a package doc comment.
func TestEveryPackageHasADocComment(t *testing.T) {
	documented := map[string]bool{} // directory → has a doc comment
	walkRepo(t, func(rel string) {
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") ||
			slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), "testdata") {
			return
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, rel), nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		documented[dir] = documented[dir] || f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != ""
	})
	if len(documented) < 20 {
		t.Fatalf("found only %d Go packages: is the repository root %s?", len(documented), repoRoot)
	}
	for dir, ok := range documented {
		if !ok {
			t.Errorf("package %s has no package doc comment (// Package … or // Command … above the package clause of one file)", dir)
		}
	}
}

// citedDoc matches a citation of one of the documents the code follows
// (the product rules, the HTTP contract, the architecture), with the path
// written before it. The names are spelt in pieces so that this file does
// not cite them itself.
var citedDoc = regexp.MustCompile(`[\w./-]*\b(?:` + strings.Join([]string{"product", "http-api", "architecture"}, "|") + `)\.md\b`)

// sharedParent is how files outside the repository were cited.
var sharedParent = ".." + "/shared"

// TestNoCitationOutsideTheRepository: the repository stands alone. No file
// refers to a sibling folder of the repository, and a citation of the
// product rules, the HTTP contract or the architecture names a document that
// exists under docs/ (as docs/<name>, or as <name> from inside docs/).
func TestNoCitationOutsideTheRepository(t *testing.T) {
	exts := []string{".go", ".ts", ".tsx", ".js", ".mjs", ".md", ".json", ".yml", ".yaml", ".mk", ".html"}
	scanned := 0
	walkRepo(t, func(rel string) {
		base := filepath.Base(rel)
		if !slices.Contains(exts, filepath.Ext(rel)) && base != "Makefile" || base == "package-lock.json" {
			return
		}
		f, err := os.Open(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		defer f.Close()
		scanned++
		inDocs := filepath.ToSlash(filepath.Dir(rel)) == "docs"
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.Contains(line, sharedParent) {
				t.Errorf("%s:%d cites %s, outside the repository", rel, n, sharedParent)
			}
			for _, cite := range citedDoc.FindAllString(line, -1) {
				name := filepath.Base(cite)
				inRepo := strings.HasSuffix(cite, "docs/"+name) || inDocs && (cite == name || cite == "./"+name)
				if _, err := os.Stat(filepath.Join(repoRoot, "docs", name)); err != nil {
					inRepo = false
				}
				if !inRepo {
					t.Errorf("%s:%d cites %q: cite docs/%s, and only if it exists", rel, n, cite, name)
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Errorf("%s: %v", rel, err)
		}
	})
	if scanned < 50 {
		t.Fatalf("scanned only %d files: is the repository root %s?", scanned, repoRoot)
	}
}

// markdownLink matches an inline Markdown link's target.
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestMarkdownLinksResolve: every relative link of the repository's
// Markdown documents (README.md, docs/, the folders' READMEs) points to a
// file or folder that exists.
func TestMarkdownLinksResolve(t *testing.T) {
	links := 0
	walkRepo(t, func(rel string) {
		if filepath.Ext(rel) != ".md" {
			return
		}
		b, err := os.ReadFile(filepath.Join(repoRoot, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			links++
			path := filepath.Join(repoRoot, filepath.Dir(rel), filepath.FromSlash(target))
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s, which does not exist", rel, m[1])
			}
		}
	})
	if links < 10 {
		t.Fatalf("found only %d relative links: is the repository root %s?", links, repoRoot)
	}
}

// TestHTTPAPIRouteTableIsTheRouteTable: the routes table of docs/http-api.md
// lists exactly the routes of authz.NewRoutes, in order, each with the
// permission it needs and how it is checked.
func TestHTTPAPIRouteTableIsTheRouteTable(t *testing.T) {
	var want []string
	for _, r := range authz.NewRoutes() {
		perm := r.Permission
		switch r.Check {
		case authz.CheckPublic:
			perm = "none"
		case authz.CheckAuthenticated:
			perm = "any valid token"
		case authz.CheckReach:
			perm += " (reach)"
		}
		want = append(want, strings.Join([]string{r.Method, r.Pattern, r.Operation, perm}, " | "))
	}
	got := docTableRows(t, "docs/http-api.md", "## Routes", 4)
	if !slices.Equal(got[1:], want) {
		t.Errorf("docs/http-api.md, \"Routes\", lists\n  %s\nthe route table is\n  %s", strings.Join(got[1:], "\n  "), strings.Join(want, "\n  "))
	}
}

// TestProductCatalogTableIsTheCatalog: the permissions table of
// docs/product.md names every permission of authz.NewCatalog once, each
// with the deepest level it can be scoped to.
func TestProductCatalogTableIsTheCatalog(t *testing.T) {
	c := authz.NewCatalog()
	documented := map[string]string{}
	for _, row := range docTableRows(t, "docs/product.md", "## Permissions", 3)[1:] {
		cells := strings.Split(row, " | ")
		for _, name := range strings.Split(cells[1], ", ") {
			name = strings.Trim(name, "`")
			if _, dup := documented[name]; dup {
				t.Errorf("docs/product.md lists %s twice", name)
			}
			documented[name] = cells[2]
		}
	}
	for _, name := range c.PermissionNames() {
		p, _ := c.Permission(name)
		want := "organization-wide only"
		if p.Scopable() {
			want = p.MaxLevel.String()
		}
		got, ok := documented[name]
		switch {
		case !ok:
			t.Errorf("docs/product.md does not list %s", name)
		case got != want:
			t.Errorf("docs/product.md says %s is scopable down to %q, the catalog %q", name, got, want)
		}
		delete(documented, name)
	}
	for name := range documented {
		t.Errorf("docs/product.md lists %s, which the catalog does not know", name)
	}
}

// docTableRows returns the rows (header first, separator left out) of the
// first Markdown table after heading in the document at path (relative to
// the repository's root), each row's cells joined by " | "; every row must
// have cols cells.
func docTableRows(t *testing.T, path, heading string, cols int) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(path)))
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	_, section, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("%s has no %q section", path, heading)
	}
	var rows []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) != cols {
			t.Fatalf("%s, %q: row %q has %d cells, want %d", path, heading, line, len(cells), cols)
		}
		if strings.HasPrefix(cells[0], "---") {
			continue
		}
		rows = append(rows, strings.Join(cells, " | "))
	}
	if len(rows) < 2 {
		t.Fatalf("%s, %q: no table", path, heading)
	}
	return rows
}
