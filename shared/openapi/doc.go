// Package openapi holds the project's OpenAPI 3.1 document of the HTTP API
// to the code. The document lives at docs/openapi.json; this package's
// tests fail when it and the route table (authz.NewRoutes), the JSON shapes
// (package wire) or the error contract (httpapi.Problem) disagree, when an
// answer object is open or a header the server always sends is not
// required. Package client below is a Go client generated from it. Its
// repository tests keep the repository self-contained: every package has a
// doc comment, every cited document exists under docs/, Markdown links
// resolve, and the tables of docs/http-api.md and docs/product.md match the
// route table and the catalog.
package openapi
