package handler

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

var verifyBodies = []string{
	`{"token":"dotenv_abc"}`,
	` { "token" : "t" , "permission":"secrets:read", "resource": {"environment":"env_1","project":"prj_1"} } `,
	`{"token":"t","resource":{}}`,
	`{}`,
	`{"token":"é€"}`,
	`{"token":"a\"b"}`,
	`{"token":"a\\u0041"}`,
	`{"TOKEN":"x"}`,
	`{"token":"x","token":"y"}`,
	`{"token":null}`,
	`{"token":1}`,
	`{"token":"x","extra":1}`,
	`{"token":"x"} {}`,
	`{"token":"x",}`,
	`{"resource":{"team":"a","team":"b"}}`,
	`{"resource":{"galaxy":"a"}}`,
	`{"resource":null}`,
	`[]`,
	``,
	"{\"token\":\"\xff\"}",
}

// FuzzParseVerifyRequest: whatever the fast path accepts, the standard
// strict decoder accepts too, with the same value.
func FuzzParseVerifyRequest(f *testing.F) {
	for _, b := range verifyBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseVerifyRequest(b)
		if !ok {
			return
		}
		var std wire.VerifyRequest
		if err := httpapi.UnmarshalStrict(b, &std); err != nil {
			t.Fatalf("fast path accepted %q, the strict decoder refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q: fast %+v, strict %+v", b, fast, std)
		}
	})
}

func TestParseVerifyRequestTakesTheCommonShape(t *testing.T) {
	for _, b := range verifyBodies[:5] {
		if _, ok := parseVerifyRequest([]byte(b)); !ok {
			t.Errorf("fast path refused the common shape %q", b)
		}
	}
	for _, b := range verifyBodies[5:] {
		if _, ok := parseVerifyRequest([]byte(b)); ok {
			t.Errorf("fast path took %q, which needs the strict decoder", b)
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
	} {
		want, _ := json.Marshal(r)
		if got := appendResponse(nil, r); string(got) != string(want) {
			t.Errorf("appendResponse:\n got %s\nwant %s", got, want)
		}
	}
}
