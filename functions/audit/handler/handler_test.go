package handler

import "testing"

// TestSafeCell: a cell a spreadsheet would run as a formula is prefixed
// with a quote; anything else is left alone.
func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-1": "'-1", "@cmd": "'@cmd", "\tx": "'\tx", "\rx": "'\rx",
		"": "", "CI deploy": "CI deploy", "a=b": "a=b", "key_x": "key_x", "2026-11-29T12:00:00.000Z": "2026-11-29T12:00:00.000Z",
	} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestExportMedia: the first known media type of Accept decides; JSON and
// wildcards keep the JSON page.
func TestExportMedia(t *testing.T) {
	for accept, want := range map[string]string{
		"":                                  "",
		"application/json":                  "",
		"*/*":                               "",
		"application/x-ndjson":              MediaNDJSON,
		"text/csv; charset=utf-8":           MediaCSV,
		"text/html, text/csv;q=0.9":         MediaCSV,
		"application/json, text/csv":        "",
		"bogus;;, application/x-ndjson":     MediaNDJSON,
		"application/x-ndjson, text/csv":    MediaNDJSON,
		"application/xml, application/json": "",
	} {
		if got := exportMedia(accept); got != want {
			t.Errorf("exportMedia(%q) = %q, want %q", accept, got, want)
		}
	}
}
