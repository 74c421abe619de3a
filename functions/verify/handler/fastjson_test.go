package handler

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

// commonBodies have the common shape the fast path takes.
var commonBodies = []string{
	`{"token":"dotenv_abc"}`,
	` { "token" : "t" , "permission":"secrets:read", "resource": {"environment":"env_1","project":"prj_1"} } `,
	`{"token":"t","resource":{}}`,
	`{"token":""}`,
	`{"token":"é€"}`,
	"{\"token\":\"\u2028\ufffd\U0001F600\x7f\"}",
	"\t\r\n{\"resource\":{\"team\":\"a\"},\"token\":\"x\"}\n",
	`{"token":"t","client_ip":"203.0.113.7"}`,
	`{"client_ip":"2001:db8::1","token":"t","permission":"secrets:read"}`,
	`{"token":"t","client_ip":"not an address"}`,
}

// otherBodies need the strict decoder: it accepts some (escapes) and
// refuses the rest.
var otherBodies = []string{
	// Missing token.
	`{}`,
	`{"permission":"secrets:read"}`,
	`{"resource":{"team":"a"}}`,
	`{"token":null}`,
	// Escapes.
	`{"token":"a\"b"}`,
	`{"token":"a\\u0041"}`,
	`{"token":"\u0041"}`,
	`{"t\u006fken":"x"}`,
	`{"token":"x","resource":{"te\u0061m":"a"}}`,
	`{"token":"\ud83d\ude00"}`,
	`{"token":"\ud800"}`,
	`{"token":"\/"}`,
	// Letter cases.
	`{"TOKEN":"x"}`,
	`{"Token":"x"}`,
	`{"token":"x","Permission":"secrets:read"}`,
	`{"token":"x","resource":{"Team":"a"}}`,
	`{"token":"x","ToKeN":"y"}`,
	// Duplicates.
	`{"token":"x","token":"y"}`,
	`{"token":"x","t\u006fken":"y"}`,
	`{"token":"x","permission":"a","permission":"a"}`,
	`{"token":"x","resource":{"team":"a","team":"b"}}`,
	`{"token":"x","resource":{},"resource":{}}`,
	`{"token":"x","client_ip":"203.0.113.7","client_ip":"203.0.113.7"}`,
	`{"token":"x","client_ip":null}`,
	`{"token":"x","client_ip":1}`,
	`{"token":"x","Client_IP":"203.0.113.7"}`,
	// Invalid UTF-8, in values and in names.
	"{\"token\":\"\xff\"}",
	"{\"token\":\"\xc3\x28\"}",
	"{\"token\":\"\xed\xa0\x80\"}",
	"{\"token\":\"x\",\"\xff\":1}",
	"{\"token\":\"x\",\"resource\":{\"\xc0\xaf\":\"a\"}}",
	"{\"token\":\"\xf4\x90\x80\x80\"}",
	// Other types, unknown fields, trailing data, broken JSON.
	`{"token":1}`,
	`{"token":"x","permission":null}`,
	`{"token":"x","extra":1}`,
	`{"token":"x"} {}`,
	`{"token":"x"}x`,
	`{"token":"x",}`,
	`{"token":"x","resource":{"galaxy":"a"}}`,
	`{"token":"x","resource":null}`,
	`{"token":"x","resource":[]}`,
	`[]`,
	`null`,
	``,
	"\ufeff{\"token\":\"x\"}",
	"{\"token\":\"a\x01\"}",
	`{"token":"x"`,
}

// FuzzParseVerifyRequest holds the fast path to the strict decoder:
// whatever the fast path accepts, the strict decoder accepts with the same
// value, and the handler's decoding (fast path, then strict decoder)
// answers exactly what the strict decoder answers: the same accept or
// refuse decision, the same value, the same problem.
func FuzzParseVerifyRequest(f *testing.F) {
	for _, b := range append(slices.Clone(commonBodies), otherBodies...) {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var std wire.VerifyRequest
		stdErr := httpapi.UnmarshalStrict(b, &std)
		if fast, ok := parseVerifyRequest(b); ok {
			if stdErr != nil {
				t.Fatalf("fast path accepted %q, the strict decoder refuses it: %v", b, stdErr)
			}
			if !reflect.DeepEqual(fast, std) {
				t.Fatalf("%q: fast %+v, strict %+v", b, fast, std)
			}
		}
		got, err := decodeVerifyRequest(b)
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("%q: handler decoding error %v, strict decoder error %v", b, err, stdErr)
		}
		if err != nil {
			if p, q := httpapi.ProblemOf(err), httpapi.ProblemOf(stdErr); !reflect.DeepEqual(p, q) {
				t.Fatalf("%q: handler decoding answers %+v, the strict decoder %+v", b, p, q)
			}
			return
		}
		if !reflect.DeepEqual(got, std) {
			t.Fatalf("%q: handler decoding %+v, strict %+v", b, got, std)
		}
	})
}

func TestParseVerifyRequestTakesTheCommonShape(t *testing.T) {
	for _, b := range commonBodies {
		if _, ok := parseVerifyRequest([]byte(b)); !ok {
			t.Errorf("fast path refused the common shape %q", b)
		}
	}
	for _, b := range otherBodies {
		if _, ok := parseVerifyRequest([]byte(b)); ok {
			t.Errorf("fast path took %q, which needs the strict decoder", b)
		}
	}
}

// TestDecodeVerifyRequest: the answers of the strict decoder the verify
// route relies on, and a token is never repeated in them.
func TestDecodeVerifyRequest(t *testing.T) {
	const secret = "dotenv_0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345"
	for _, tc := range []struct {
		body  string
		code  fault.Code
		field string // the first field error's field:code
	}{
		{`{}`, fault.CodeValidation, "token:required"},
		{`{"token":null}`, fault.CodeValidation, "token:required"},
		{`{"TOKEN":"` + secret + `"}`, fault.CodeValidation, "TOKEN:unknown_field"},
		{`{"` + secret + `":"x","token":"y"}`, fault.CodeValidation, "(name withheld):unknown_field"},
		{`{"token":1}`, fault.CodeValidation, "token:wrong_type"},
		{`{"token":"` + secret + `","token":"` + secret + `"}`, fault.CodeMalformedJSON, ""},
		{"{\"token\":\"" + secret + "\xff\"}", fault.CodeMalformedJSON, ""},
		{`{"token":"` + secret + `"} {}`, fault.CodeMalformedJSON, ""},
		{`{"token":"a\u0041"}`, "", ""},
	} {
		_, err := decodeVerifyRequest([]byte(tc.body))
		if tc.code == "" {
			if err != nil {
				t.Errorf("body %d refused: %v", len(tc.body), err)
			}
			continue
		}
		p := httpapi.ProblemOf(err)
		var first string
		if len(p.Errors) > 0 {
			first = p.Errors[0].Field + ":" + p.Errors[0].Code
		}
		if p.Code != tc.code || first != tc.field {
			t.Errorf("answered %s %q, want %s %q", p.Code, first, tc.code, tc.field)
		}
		if b, _ := json.Marshal(p); strings.Contains(string(b), secret) || strings.Contains(err.Error(), secret) {
			t.Error("the answer repeats the token of the body")
		}
	}
}

func TestAppendResponseMatchesMarshal(t *testing.T) {
	exp := "2027-01-31T00:00:00Z"
	for _, r := range []wire.VerifyResponse{
		{Code: "malformed"},
		{Valid: true, Allowed: true, Code: "ok", Key: &wire.VerifiedKey{ID: "key_1", OrganizationID: "org_1", Name: "CI deploy", ExpiresAt: &exp}},
		{Valid: true, Allowed: true, Code: "ok", Key: &wire.VerifiedKey{ID: "key_1", OrganizationID: "org_1", Name: `<b>"é" & \ ` + "\u2028\x01"}},
		{Valid: true, Code: "forbidden", Key: &wire.VerifiedKey{ID: "key_1"}, Missing: &wire.Grant{Permission: "secrets:read", Scope: &wire.Scope{Level: "environment", ID: "env_1"}}},
		{Valid: true, Allowed: true, Code: "ok", Key: &wire.VerifiedKey{ID: "key_1", OrganizationID: "org_1", Name: "CI deploy"}, PreviousToken: true, PreviousTokenExpiresAt: &exp},
		{Valid: true, Code: "forbidden", Key: &wire.VerifiedKey{ID: "key_1"}, PreviousToken: true, PreviousTokenExpiresAt: &exp, Missing: &wire.Grant{Permission: "secrets:read"}},
	} {
		want, _ := json.Marshal(r)
		if got := appendResponse(nil, r); string(got) != string(want) {
			t.Errorf("appendResponse:\n got %s\nwant %s", got, want)
		}
	}
}
