package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
)

// TestQueryInt: the rules of an integer query parameter (limit 1 to 100).
func TestQueryInt(t *testing.T) {
	for _, tc := range []struct {
		query string
		n     int
		given bool
		code  string // field code of the error, "" when none
	}{
		{"", 0, false, ""},
		{"limit=1", 1, true, ""},
		{"limit=100", 100, true, ""},
		{"limit=050", 50, true, ""},
		{"limit=0", 0, true, fault.FieldOutOfRange},
		{"limit=101", 0, true, fault.FieldOutOfRange},
		{"limit=2147483648", 0, true, fault.FieldOutOfRange},
		{"limit=9223372036854775808", 0, true, fault.FieldOutOfRange},
		{"limit=" + strings.Repeat("9", 400), 0, true, fault.FieldOutOfRange},
		{"limit=", 0, true, fault.FieldType},
		{"limit=%2B5", 0, true, fault.FieldType},
		{"limit=-1", 0, true, fault.FieldType},
		{"limit=1e2", 0, true, fault.FieldType},
		{"limit=%205", 0, true, fault.FieldType},
		{"limit=%D9%A5", 0, true, fault.FieldType},
		{"limit=5&limit=6", 0, true, fault.FieldInvalid},
	} {
		q, _ := url.ParseQuery(tc.query)
		n, given, err := httpapi.QueryInt(q, "limit", 1, 100)
		var code string
		if p := httpapi.ProblemOf(err); err != nil {
			if len(p.Errors) != 1 || p.Errors[0].Field != "limit" {
				t.Errorf("%q: errors %v, want one naming limit", tc.query, p.Errors)
				continue
			}
			code = p.Errors[0].Code
		}
		if n != tc.n || given != tc.given || code != tc.code {
			t.Errorf("%q: %d %v %q, want %d %v %q", tc.query, n, given, code, tc.n, tc.given, tc.code)
		}
	}
}

// TestQueryString: a string query parameter is given at most once and
// within its bound.
func TestQueryString(t *testing.T) {
	for _, tc := range []struct {
		query, want, code string
	}{
		{"", "", ""},
		{"cursor=abc", "abc", ""},
		{"cursor=" + strings.Repeat("A", httpapi.MaxCursorBytes), strings.Repeat("A", httpapi.MaxCursorBytes), ""},
		{"cursor=" + strings.Repeat("A", httpapi.MaxCursorBytes+1), "", fault.FieldOutOfRange},
		{"cursor=a&cursor=b", "", fault.FieldInvalid},
	} {
		q, _ := url.ParseQuery(tc.query)
		got, err := httpapi.QueryString(q, "cursor", httpapi.MaxCursorBytes)
		var code string
		if p := httpapi.ProblemOf(err); err != nil && len(p.Errors) == 1 && p.Errors[0].Field == "cursor" {
			code = p.Errors[0].Code
		}
		if got != tc.want || code != tc.code || (err != nil) != (tc.code != "") {
			t.Errorf("%.40q: %.40q %q (%v), want %.40q %q", tc.query, got, code, err, tc.want, tc.code)
		}
	}
}
