package httpapi_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dotenv/apikeys/shared/fault"
	"github.com/dotenv/apikeys/shared/httpapi"
	"github.com/dotenv/apikeys/shared/wire"
)

// secret stands for a token a client may put anywhere in a body; no error
// may repeat it.
const secret = "dotenv_0123456789abcdefABCDEFGHIJKLMNOPQRSTUVWXYZabcdef012345"

// testBody is a request type with every kind of field the decoder handles.
type testBody struct {
	Name    string            `json:"name" required:"true"`
	Count   int32             `json:"count"`
	Ratio   float64           `json:"ratio"`
	On      *bool             `json:"on"`
	Tags    []string          `json:"tags"`
	Headers map[string]string `json:"headers"`
	Raw     json.RawMessage   `json:"raw"`
	Inner   *testInner        `json:"inner"`
}

type testInner struct {
	Level string `json:"level" required:"true"`
	ID    string `json:"id" required:"true"`
}

// fieldErr is a field error without its message.
type fieldErr struct{ field, code string }

func fieldErrors(t *testing.T, err error) []fieldErr {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *fault.Error", err)
	}
	var out []fieldErr
	for _, f := range fe.Fields {
		out = append(out, fieldErr{f.Field, f.Code})
	}
	return out
}

// TestUnmarshalStrictFieldErrors: every field error of a body is answered
// at once, each with its stable field code.
func TestUnmarshalStrictFieldErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []fieldErr
	}{
		{"missing required", `{}`, []fieldErr{{"name", fault.FieldRequired}}},
		{"null required", `{"name":null}`, []fieldErr{{"name", fault.FieldRequired}}},
		{"case variant is unknown", `{"NAME":"a"}`, []fieldErr{{"NAME", fault.FieldUnknown}, {"name", fault.FieldRequired}}},
		{"all at once", `{"Name":"a","count":"3","on":1,"tags":[1,"a",{}],"inner":{"LEVEL":"x"},"extra":true}`, []fieldErr{
			{"Name", fault.FieldUnknown},
			{"count", fault.FieldType},
			{"on", fault.FieldType},
			{"tags[0]", fault.FieldType},
			{"tags[2]", fault.FieldType},
			{"inner.LEVEL", fault.FieldUnknown},
			{"inner.level", fault.FieldRequired},
			{"inner.id", fault.FieldRequired},
			{"extra", fault.FieldUnknown},
			{"name", fault.FieldRequired},
		}},
		{"int32 overflow", `{"name":"a","count":2147483648}`, []fieldErr{{"count", fault.FieldOutOfRange}}},
		{"int64 overflow", `{"name":"a","count":9223372036854775808}`, []fieldErr{{"count", fault.FieldOutOfRange}}},
		{"fraction in an integer", `{"name":"a","count":1.5}`, []fieldErr{{"count", fault.FieldType}}},
		{"float overflow", `{"name":"a","ratio":1e999}`, []fieldErr{{"ratio", fault.FieldOutOfRange}}},
		{"map value type", `{"name":"a","headers":{"X-A":1}}`, []fieldErr{{"headers.X-A", fault.FieldType}}},
		{"object for a string", `{"name":{"a":1}}`, []fieldErr{{"name", fault.FieldType}}},
		{"token as a member name is withheld", `{"name":"a","` + secret + `":1}`, []fieldErr{{"(name withheld)", fault.FieldUnknown}}},
		{"long member name is withheld", `{"name":"a","inner":{"level":"x","id":"y","` + strings.Repeat("a", 25) + `":1}}`, []fieldErr{{"inner.(name withheld)", fault.FieldUnknown}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst testBody
			err := httpapi.UnmarshalStrict([]byte(tc.body), &dst)
			if fault.CodeOf(err) != fault.CodeValidation {
				t.Fatalf("code = %v (%v), want validation_failed", fault.CodeOf(err), err)
			}
			if got := fieldErrors(t, err); !slices.Equal(got, tc.want) {
				t.Errorf("field errors = %v, want %v", got, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Error("the error repeats the token of the body")
			}
			if !reflect.DeepEqual(dst, testBody{}) {
				t.Error("dst was written despite the error")
			}
		})
	}
}

// TestUnmarshalStrictMalformed: bodies that are not strict JSON answer
// malformed_json, and never repeat the body.
func TestUnmarshalStrictMalformed(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"empty", ``},
		{"blank", " \n"},
		{"duplicate name", `{"name":"` + secret + `","name":"b"}`},
		{"duplicate in a nested object", `{"name":"a","inner":{"level":"x","id":"y","id":"z"}}`},
		{"duplicate in a raw value", `{"name":"a","raw":{"k":1,"k":2}}`},
		{"duplicate name, one escaped", `{"name":"a","n\u0061me":"b"}`},
		{"invalid UTF-8 in a value", "{\"name\":\"\xff" + secret + "\"}"},
		{"invalid UTF-8 in a name", "{\"name\":\"a\",\"\xc3\x28\":1}"},
		{"invalid UTF-8 in a raw value", "{\"name\":\"a\",\"raw\":[\"\xed\xa0\x80\"]}"},
		{"lone surrogate escape", `{"name":"\ud800"}`},
		{"trailing value", `{"name":"a"} {}`},
		{"trailing garbage", `{"name":"a"}` + secret},
		{"trailing comma", `{"name":"a",}`},
		{"not an object", `["` + secret + `"]`},
		{"null", `null`},
		{"string", `"` + secret + `"`},
		{"truncated", `{"name":"` + secret},
		{"single quotes", `{'name':'a'}`},
		{"control character", "{\"name\":\"a\x01\"}"},
		{"non-string name", `{1:2}`},
		{"byte order mark", "\ufeff{\"name\":\"a\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst testBody
			err := httpapi.UnmarshalStrict([]byte(tc.body), &dst)
			if fault.CodeOf(err) != fault.CodeMalformedJSON {
				t.Fatalf("code = %v (%v), want malformed_json", fault.CodeOf(err), err)
			}
			p := httpapi.ProblemOf(err)
			if strings.Contains(p.Detail, secret) || strings.Contains(err.Error(), secret) {
				t.Error("the error repeats the token of the body")
			}
		})
	}
}

// TestUnmarshalStrictAccepts: strict bodies decode, escapes included.
func TestUnmarshalStrictAccepts(t *testing.T) {
	on := true
	for _, tc := range []struct {
		name, body string
		want       testBody
	}{
		{"minimal", `{"name":"a"}`, testBody{Name: "a"}},
		{"escapes", `{"n\u0061me":"\u00e9\"\\\/\ud83d\ude00"}`, testBody{Name: "é\"\\/😀"}},
		{"everything", ` {"name":"a","count":-2147483648,"ratio":1e308,"on":true,"tags":["x"],"headers":{"X-A":"b"},"raw":{"any":[1,null]},"inner":{"level":"team","id":"team_1"}} `,
			testBody{Name: "a", Count: -2147483648, Ratio: 1e308, On: &on, Tags: []string{"x"}, Headers: map[string]string{"X-A": "b"}, Raw: json.RawMessage(`{"any":[1,null]}`), Inner: &testInner{Level: "team", ID: "team_1"}}},
		{"nulls for optional fields", `{"name":"a","count":null,"on":null,"inner":null,"tags":null}`, testBody{Name: "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst testBody
			if err := httpapi.UnmarshalStrict([]byte(tc.body), &dst); err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !reflect.DeepEqual(dst, tc.want) {
				t.Errorf("decoded %+v, want %+v", dst, tc.want)
			}
		})
	}
}

// TestRequiredFields reads the required tags of the request types.
func TestRequiredFields(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[testBody](), []string{"name"}},
		{reflect.TypeFor[*testInner](), []string{"level", "id"}},
		{reflect.TypeFor[wire.VerifyRequest](), []string{"token"}},
		{reflect.TypeFor[wire.KeySpec](), nil},
		{reflect.TypeFor[string](), nil},
	} {
		if got := httpapi.RequiredFields(tc.typ); !slices.Equal(got, tc.want) {
			t.Errorf("RequiredFields(%v) = %v, want %v", tc.typ, got, tc.want)
		}
	}
}
