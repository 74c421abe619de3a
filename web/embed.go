// Package web holds the dashboard of the API keys service: the static single
// page application built by Vite from web/src into web/dist (committed, so
// `go build` needs no Node.js), and the http.Handler that serves it from the
// single binary with the right content types, caching and security headers.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built dashboard (the contents of web/dist), rooted so that
// "index.html" and "assets/..." are at its top.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		// fs.Sub only fails on an invalid path; "dist" is valid.
		panic(err)
	}
	return sub
}
