// Package client is a Go client of the API generated from docs/openapi.json
// by oapi-codegen (see gen/main.go for the OpenAPI 3.0 rewrite it needs).
// Do not edit client.gen.go: change the document and run go generate; a
// test fails when the committed client differs from what the document
// generates.
package client

//go:generate go run ./gen -in ../../../docs/openapi.json -out client.gen.go -config cfg.yaml
