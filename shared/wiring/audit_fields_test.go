package wiring_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/wire"
)

// specFields returns the JSON names of the fields of the key spec the API
// decodes for create and edit (wire.KeySpec), by reflection: a field added
// to the spec is listed here without anyone remembering to.
func specFields(t *testing.T) []string {
	t.Helper()
	typ := reflect.TypeFor[wire.KeySpec]()
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			t.Fatalf("wire.KeySpec.%s has no JSON name", f.Name)
		}
		out = append(out, name)
	}
	return out
}

// TestEditableFieldsAudited: every field of the key spec, changed alone by
// PATCH /v1/api-keys/{id}, writes a key.updated event whose changes name
// exactly the key fields it changed (from → to), on every engine; a key
// created with networks records them. The fields are enumerated from the
// spec the server decodes, so a new editable field without its change
// entry (as allowed_cidrs once was) fails here.
func TestEditableFieldsAudited(t *testing.T) {
	// base is the key every case edits: explicit grants, a 30-day expiry
	// and one network.
	const base = `{"name":"base","permissions":[{"permission":"secrets:write"}],"expiration":"30d","allowed_cidrs":["192.0.2.0/24"]}`
	cases := map[string]struct {
		body    string
		changes []string
		// from and to are the first change's values as JSON ("": only
		// that they differ).
		from, to string
	}{
		"name":          {`{"name":"renamed"}`, []string{"name"}, `"base"`, `"renamed"`},
		"permissions":   {`{"permissions":[{"permission":"secrets:read"}]}`, []string{"permissions"}, "", ""},
		"preset":        {`{"preset":"read-only"}`, []string{"permissions"}, "", ""},
		"allow_all":     {`{"allow_all":true}`, []string{"allow_all", "permissions"}, `false`, `true`},
		"expiration":    {`{"expiration":"90d"}`, []string{"expires_at"}, "", ""},
		"expires_at":    {`{"expires_at":"2027-03-01T00:00:00Z"}`, []string{"expires_at"}, "", `"2027-03-01T00:00:00.000Z"`},
		"allowed_cidrs": {`{"allowed_cidrs":["10.0.0.0/8","192.0.2.0/24"]}`, []string{"allowed_cidrs"}, `["192.0.2.0/24"]`, `["10.0.0.0/8","192.0.2.0/24"]`},
	}
	fields := specFields(t)
	for _, f := range fields {
		if _, ok := cases[f]; !ok {
			t.Errorf("key spec field %q has no case here: say which change entry an edit of it records", f)
		}
	}
	for f := range cases {
		if !slices.Contains(fields, f) {
			t.Errorf("case %q is not a field of the key spec any more", f)
		}
	}
	eachEngine(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t)
		created, _ := e.newKey(base)
		evs := e.events("&key_id="+created, e.owner)
		if len(evs) != 1 || evs[0]["action"] != "key.created" {
			t.Fatalf("events of a new key = %v", actionsOf(evs))
		}
		if c := changeOf(t, evs[0], "allowed_cidrs"); c["from"] != "null" || c["to"] != `["192.0.2.0/24"]` {
			t.Errorf("key.created allowed_cidrs = %v, want null → [\"192.0.2.0/24\"]", c)
		}
		for _, f := range fields {
			tc := cases[f]
			t.Run(f, func(t *testing.T) {
				id, _ := e.newKey(base)
				e.clock.Advance(time.Second) // the edit's event sorts after the creation's
				if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, tc.body, nil); r.status != 200 {
					t.Fatalf("PATCH %s: %d %s", tc.body, r.status, r.raw)
				}
				evs := e.events("&key_id="+id, e.owner)
				if len(evs) != 2 || evs[0]["action"] != "key.updated" {
					t.Fatalf("events after the edit = %v, want key.updated, key.created", actionsOf(evs))
				}
				changes, _ := evs[0]["changes"].(map[string]any)
				if got := slices.Sorted(maps.Keys(changes)); !slices.Equal(got, tc.changes) {
					t.Fatalf("edit of %s recorded changes %v, want %v", f, got, tc.changes)
				}
				c := changeOf(t, evs[0], tc.changes[0])
				if c["from"] == c["to"] {
					t.Errorf("%s: from = to = %s", tc.changes[0], c["from"])
				}
				if tc.from != "" && c["from"] != tc.from {
					t.Errorf("%s: from %s, want %s", tc.changes[0], c["from"], tc.from)
				}
				if tc.to != "" && c["to"] != tc.to {
					t.Errorf("%s: to %s, want %s", tc.changes[0], c["to"], tc.to)
				}
			})
		}
		// Clearing the networks records them → null (anywhere).
		id, _ := e.newKey(base)
		e.clock.Advance(time.Second)
		if r := e.do("PATCH", "/v1/api-keys/"+id, e.owner, `{"allowed_cidrs":[]}`, nil); r.status != 200 {
			t.Fatalf("clearing allowed_cidrs: %d %s", r.status, r.raw)
		}
		if c := changeOf(t, e.events("&key_id="+id, e.owner)[0], "allowed_cidrs"); c["from"] != `["192.0.2.0/24"]` || c["to"] != "null" {
			t.Errorf("clearing allowed_cidrs recorded %v, want [\"192.0.2.0/24\"] → null", c)
		}
	})
}

// changeOf returns an event's change of field as its from and to in
// compact JSON (a missing change fails).
func changeOf(t *testing.T, ev map[string]any, field string) map[string]string {
	t.Helper()
	changes, _ := ev["changes"].(map[string]any)
	c, ok := changes[field].(map[string]any)
	if !ok {
		t.Fatalf("%s records no %s change: %v", ev["action"], field, changes)
	}
	out := map[string]string{}
	for _, side := range []string{"from", "to"} {
		b, err := json.Marshal(c[side])
		if err != nil {
			t.Fatal(err)
		}
		out[side] = string(b)
	}
	return out
}
