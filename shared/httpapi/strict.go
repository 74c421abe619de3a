package httpapi

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/dotenv/apikeys/shared/fault"
)

// Strict decoding (docs/design.md, "Errors").
//
// A request body is read in two steps. First a walk over its JSON tokens,
// guided by the Go type it is decoded into, collects every field error of
// the body at once: unknown members (names match case-sensitively),
// values of the wrong JSON type, numbers beyond their Go type and missing
// required members (struct fields tagged `required:"true"`). The JSON
// itself must be strict: valid UTF-8 in names and values, no member name
// twice in one object, exactly one value. Only a body without any field
// error is then unmarshaled, with the same strict options.
//
// Both steps use github.com/go-json-experiment/json, the upstream of the
// standard library's encoding/json/v2, rather than encoding/json/v2
// itself: in Go 1.26 the standard package exists only with
// GOEXPERIMENT=jsonv2, which every build would then have to set (the
// Lambda bootstraps, go run, go test, the CDK synth, staticcheck, editors),
// and a build without it fails. The module needs no flag; built with
// GOEXPERIMENT=jsonv2 it is an alias of the standard package, so the day
// the experiment ends the switch is an import path. encoding/json (v1)
// cannot do the job: it matches names case-insensitively, keeps the last
// of duplicate names, replaces invalid UTF-8 silently and stops at the
// first error.
//
// Nothing of the body is ever put in an error message: a body may hold a
// token. Messages name JSON types and byte offsets, never values; member
// names are echoed only when they cannot be a secret (see shownName).

// requiredTag is the struct tag that marks a request field as required:
// `json:"token" required:"true"`. A required member must be present and
// not null.
const requiredTag = "required"

// strictOptions are the options of every strict read: names match
// case-sensitively (the default), unknown members, duplicate names and
// invalid UTF-8 are refused.
var strictOptions = json.JoinOptions(
	json.RejectUnknownMembers(true),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// UnmarshalStrict decodes exactly one JSON object from b into dst (a
// pointer to a struct) and answers every field error of the body at once
// (validation_failed, each with its field code), or malformed_json when the
// body is not strict JSON. dst is left untouched on error.
func UnmarshalStrict(b []byte, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fault.New(fault.CodeInternal, "decoding into %T", dst)
	}
	if len(bytes.TrimLeft(b, " \t\r\n")) == 0 {
		return fault.New(fault.CodeMalformedJSON, "the body is empty: send a JSON object")
	}
	if !utf8.Valid(b) {
		return fault.New(fault.CodeMalformedJSON, "the body is not valid UTF-8")
	}
	w := walker{dec: jsontext.NewDecoder(bytes.NewReader(b), strictOptions)}
	if err := w.top(rv.Type().Elem()); err != nil {
		return err
	}
	if err := w.fields.Err(); err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst, strictOptions); err != nil {
		// The walk accepted the body, so this is a gap between the two
		// steps; the cause is only logged.
		return fault.Wrap(err, fault.CodeMalformedJSON, "the body could not be read as JSON")
	}
	return nil
}

// RequiredFields returns the JSON names of the struct fields of t (or of
// what t points to) that UnmarshalStrict requires, in declaration order.
// The OpenAPI tests hold each request schema's required list to it.
func RequiredFields(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	if t.Kind() != reflect.Struct {
		return out
	}
	for _, f := range structFields(t) {
		if f.required {
			out = append(out, f.name)
		}
	}
	return out
}

// structField is one decodable field of a struct.
type structField struct {
	name     string
	index    int
	typ      reflect.Type
	required bool
}

// structFields lists the fields of t the way the JSON package names them.
func structFields(t reflect.Type) []structField {
	var out []structField
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		out = append(out, structField{name: name, index: i, typ: f.Type, required: f.Tag.Get(requiredTag) == "true"})
	}
	return out
}

// walker reads a body's tokens against a Go type and collects its field
// errors. Its methods return an error only when the JSON itself is broken,
// which ends the walk.
type walker struct {
	dec    *jsontext.Decoder
	fields fault.Fields
}

// top reads the body: one JSON object, then nothing but whitespace.
func (w *walker) top(t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if k := w.dec.PeekKind(); k != '{' && k != 0 && t.Kind() == reflect.Struct {
		if err := w.dec.SkipValue(); err != nil {
			return syntaxError(err)
		}
		return fault.New(fault.CodeMalformedJSON, "the body must be a JSON object")
	}
	if _, err := w.value("", t); err != nil {
		return syntaxError(err)
	}
	if _, err := w.dec.ReadToken(); !errors.Is(err, io.EOF) {
		return fault.New(fault.CodeMalformedJSON, "the body must hold exactly one JSON value")
	}
	return nil
}

// Types that decode themselves: json.RawMessage and its kin take any JSON
// value, text unmarshalers a string.
var (
	jsonUnmarshaler = reflect.TypeFor[interface{ UnmarshalJSON([]byte) error }]()
	textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
)

// value reads one value that decodes into t at path and reports whether it
// was null (null leaves a field at its zero value).
func (w *walker) value(path string, t reflect.Type) (null bool, err error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	kind := w.dec.PeekKind()
	switch {
	case kind == 0:
		_, err := w.dec.ReadToken() // surfaces the syntax or I/O error
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return false, err
	case kind == 'n':
		_, err := w.dec.ReadToken()
		return true, err
	case reflect.PointerTo(t).Implements(jsonUnmarshaler), t.Kind() == reflect.Interface:
		return false, w.dec.SkipValue()
	case reflect.PointerTo(t).Implements(textUnmarshaler):
		return false, w.expect(path, t, kind, kind == '"')
	}
	switch t.Kind() {
	case reflect.String:
		return false, w.expect(path, t, kind, kind == '"')
	case reflect.Bool:
		return false, w.expect(path, t, kind, kind == 't' || kind == 'f')
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		if kind != '0' {
			return false, w.expect(path, t, kind, false)
		}
		return false, w.number(path, t)
	case reflect.Slice, reflect.Array:
		if kind != '[' {
			return false, w.expect(path, t, kind, false)
		}
		return false, w.array(path, t)
	case reflect.Map:
		if kind != '{' || t.Key().Kind() != reflect.String {
			return false, w.expect(path, t, kind, false)
		}
		return false, w.object(path, func(name string) (reflect.Type, string) {
			return t.Elem(), join(path, shownName(name))
		})
	case reflect.Struct:
		if kind != '{' {
			return false, w.expect(path, t, kind, false)
		}
		return false, w.structure(path, t)
	}
	// A Go type with no JSON form is never part of a request.
	w.fields.Add(path, fault.FieldType, "cannot be decoded")
	return false, w.dec.SkipValue()
}

// expect reads a scalar or skips a value, recording a wrong type unless ok.
func (w *walker) expect(path string, t reflect.Type, kind jsontext.Kind, ok bool) error {
	if !ok {
		w.fields.Add(path, fault.FieldType, "must be %s, not %s", goKind(t), jsonKindOf(kind))
	}
	return w.dec.SkipValue()
}

// number reads a number and checks that it fits t.
func (w *walker) number(path string, t reflect.Type) error {
	v, err := w.dec.ReadValue()
	if err != nil {
		return err
	}
	s := string(v)
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		_, err = strconv.ParseFloat(s, t.Bits())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		_, err = strconv.ParseUint(s, 10, t.Bits())
		if err != nil && strings.HasPrefix(s, "-") && !strings.ContainsAny(s, ".eE") {
			err = strconv.ErrRange
		}
	default:
		_, err = strconv.ParseInt(s, 10, t.Bits())
	}
	switch {
	case err == nil:
	case errors.Is(err, strconv.ErrRange):
		w.fields.Add(path, fault.FieldOutOfRange, "is out of range: %s", numberRange(t))
	default:
		w.fields.Add(path, fault.FieldType, "must be %s", goKind(t))
	}
	return nil
}

// array reads the elements of an array of t's element type.
func (w *walker) array(path string, t reflect.Type) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	for i := 0; w.dec.PeekKind() != ']'; i++ {
		if _, err := w.value(path+"["+strconv.Itoa(i)+"]", t.Elem()); err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return err
}

// object reads the members of an object; member returns the type of a
// member's value (nil: unknown member) and the path to report it at.
func (w *walker) object(path string, member func(name string) (reflect.Type, string)) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	for w.dec.PeekKind() != '}' {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		t, at := member(tok.String())
		if t == nil {
			w.fields.Add(at, fault.FieldUnknown, "is not a field of this request (names are case-sensitive)")
			if err := w.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		if _, err := w.value(at, t); err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return err
}

// structure reads an object into struct type t: known members by their
// exact name, then every required member that was missing or null.
func (w *walker) structure(path string, t reflect.Type) error {
	fields := structFields(t)
	given := make([]bool, len(fields))
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	for w.dec.PeekKind() != '}' {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		name := tok.String()
		i := -1
		for j := range fields {
			if fields[j].name == name {
				i = j
				break
			}
		}
		if i < 0 {
			w.fields.Add(join(path, shownName(name)), fault.FieldUnknown, "is not a field of this request (names are case-sensitive)")
			if err := w.dec.SkipValue(); err != nil {
				return err
			}
			continue
		}
		null, err := w.value(join(path, name), fields[i].typ)
		if err != nil {
			return err
		}
		given[i] = !null
	}
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	for i, f := range fields {
		if f.required && !given[i] {
			w.fields.Add(join(path, f.name), fault.FieldRequired, "is required (and may not be null)")
		}
	}
	return nil
}

// join appends a member name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// maxShownName bounds the member names an error may repeat. It is shorter
// than a token's 32-character verifier, so a token sent as a member name
// is never echoed.
const maxShownName = 24

// shownName returns a member name as an error may show it: the name itself
// when it is short and made only of letters, digits, '_' and '-' and does
// not start like a token, otherwise a placeholder.
func shownName(name string) string {
	ok := name != "" && len(name) <= maxShownName && !strings.HasPrefix(strings.ToLower(name), "dotenv_")
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	if ok {
		return name
	}
	return "(name withheld)"
}

// syntaxError turns an error of the JSON reader into malformed_json,
// naming the byte offset but nothing of the body.
func syntaxError(err error) error {
	var fe *fault.Error
	if errors.As(err, &fe) {
		return fe
	}
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.New(fault.CodeMalformedJSON, "the body ends in the middle of a JSON value")
	case errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &se):
		return fault.New(fault.CodeMalformedJSON, "the body repeats a member name within one object (at byte %d)", se.ByteOffset)
	case errors.As(err, &se):
		return fault.New(fault.CodeMalformedJSON, "the body is not valid JSON (at byte %d)", se.ByteOffset)
	}
	return fault.Wrap(err, fault.CodeMalformedJSON, "the body could not be read as JSON")
}

// numberRange says which numbers t holds.
func numberRange(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "too large in magnitude"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "from 0 to " + strconv.FormatUint(1<<t.Bits()-1, 10)
	}
	return "from " + strconv.FormatInt(-1<<(t.Bits()-1), 10) + " to " + strconv.FormatInt(1<<(t.Bits()-1)-1, 10)
}

// goKind names what a Go type accepts the way a JSON user would.
func goKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a whole number"
	}
	return "a JSON value"
}

// jsonKindOf names the kind of a JSON value.
func jsonKindOf(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	}
	return "a JSON value"
}
