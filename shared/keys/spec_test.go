package keys

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/fault"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"CI deploy", true},
		{"a", true},
		{strings.Repeat("é", 100), true},
		{"", false},
		{"   ", false},
		{" padded", false},
		{"padded ", false},
		{strings.Repeat("x", 101), false},
		{"tab\there", false},
		{"bell\a", false},
		{"new\nline", false},
		{string([]byte{0xff, 0xfe}), false},
	}
	for _, tt := range tests {
		err := ValidateName("name", tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && fault.CodeOf(err) != fault.CodeValidation {
			t.Errorf("ValidateName(%q): code %s", tt.name, fault.CodeOf(err))
		}
	}
}

func TestExpiry(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 30, 15, 0, time.UTC)
	s := func(v string) *string { return &v }
	future, past := now.Add(time.Hour), now.Add(-time.Second)
	latest, tooLate := now.AddDate(5, 0, 0), now.AddDate(5, 0, 0).Add(time.Millisecond)
	year10000 := time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(23*3600+59*60)))
	tests := []struct {
		name  string
		spec  Spec
		want  time.Time
		given bool
		field string
	}{
		{"never", Spec{Expiration: s("never")}, time.Time{}, true, ""},
		{"30d", Spec{Expiration: s("30d")}, now.AddDate(0, 0, 30), true, ""},
		{"60d", Spec{Expiration: s("60d")}, now.AddDate(0, 0, 60), true, ""},
		{"90d", Spec{Expiration: s("90d")}, now.AddDate(0, 0, 90), true, ""},
		{"1y", Spec{Expiration: s("1y")}, now.AddDate(1, 0, 0), true, ""},
		{"custom", Spec{ExpiresAt: &future}, future, true, ""},
		{"none", Spec{}, time.Time{}, false, ""},
		{"past", Spec{ExpiresAt: &past}, time.Time{}, false, "expires_at"},
		{"now", Spec{ExpiresAt: &now}, time.Time{}, false, "expires_at"},
		{"at the bound", Spec{ExpiresAt: &latest}, latest, true, ""},
		{"past the bound", Spec{ExpiresAt: &tooLate}, time.Time{}, false, "expires_at"},
		{"year 10000 in UTC", Spec{ExpiresAt: &year10000}, time.Time{}, false, "expires_at"},
		{"unknown", Spec{Expiration: s("2w")}, time.Time{}, false, "expiration"},
		{"both", Spec{Expiration: s("30d"), ExpiresAt: &future}, time.Time{}, false, "expiration"},
	}
	for _, tt := range tests {
		got, given, err := tt.spec.expiry(now)
		if tt.field != "" {
			var fe *fault.Error
			if err == nil || !asFault(err, &fe) || fe.Fields[0].Field != tt.field {
				t.Errorf("%s: err = %v, want a validation error on %s", tt.name, err, tt.field)
			}
			continue
		}
		if err != nil || given != tt.given || !got.Equal(tt.want) {
			t.Errorf("%s: %v %v %v, want %v %v", tt.name, got, given, err, tt.want, tt.given)
		}
	}
}

func TestAccessChoice(t *testing.T) {
	yes, no, ro := true, false, "read-only"
	tests := []struct {
		name string
		spec Spec
		n    int
		bad  bool
	}{
		{"nothing", Spec{}, 0, false},
		{"permissions", Spec{PermissionsSet: true, Permissions: []GrantInput{{Permission: "secrets:read"}}}, 1, false},
		{"empty permissions", Spec{PermissionsSet: true}, 0, true},
		{"preset", Spec{Preset: &ro}, 1, false},
		{"allow all", Spec{AllowAll: &yes}, 1, false},
		{"allow all false alone", Spec{AllowAll: &no}, 0, true},
		{"allow all false with preset", Spec{AllowAll: &no, Preset: &ro}, 1, false},
		{"two", Spec{AllowAll: &yes, Preset: &ro}, 0, true},
	}
	for _, tt := range tests {
		n, err := tt.spec.accessChoice()
		if (err != nil) != tt.bad || (!tt.bad && n != tt.n) {
			t.Errorf("%s: %d %v", tt.name, n, err)
		}
	}
}

func asFault(err error, target **fault.Error) bool {
	return errors.As(err, target) && len((*target).Fields) > 0
}

func TestStatus(t *testing.T) {
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		exp  time.Time
		want string
	}{
		{time.Time{}, "active"},
		{now.Add(8 * 24 * time.Hour), "active"},
		{now.Add(7 * 24 * time.Hour), "expiring_soon"},
		{now.Add(time.Second), "expiring_soon"},
		{now, "expired"},
		{now.Add(-time.Hour), "expired"},
	} {
		k := &Key{}
		k.ExpiresAt = tt.exp
		if got := k.Status(now); got != tt.want {
			t.Errorf("expiry %v: %s, want %s", tt.exp, got, tt.want)
		}
	}
}

func TestNetworks(t *testing.T) {
	many := make([]string, 33)
	for i := range many {
		many[i] = fmt.Sprintf("10.0.%d.0/24", i)
	}
	tests := []struct {
		name   string
		cidrs  []string
		want   string   // the parsed list, request order
		fields []string // the field errors
	}{
		{"none", nil, "", nil},
		{"IPv4 and IPv6, request order kept", []string{"2001:db8::/32", "203.0.113.0/24"}, "2001:db8::/32 203.0.113.0/24", nil},
		{"single addresses", []string{"203.0.113.7", "2001:db8::1"}, "203.0.113.7/32 2001:db8::1/128", nil},
		{"mapped", []string{"::ffff:10.0.0.0/104"}, "10.0.0.0/8", nil},
		{"32 entries", many[:32], strings.Join(many[:32], " "), nil},
		{"33 entries", many, "", []string{"allowed_cidrs"}},
		{"every bad entry named", []string{"10.0.0.0/8", "10.0.0.1/8", "nope", "10.0.0.0/40"}, "10.0.0.0/8", []string{"allowed_cidrs[1]", "allowed_cidrs[2]", "allowed_cidrs[3]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fe fault.Fields
			got := Spec{AllowedCIDRs: tt.cidrs, AllowedCIDRsSet: true}.networks(&fe)
			s := make([]string, len(got))
			for i, p := range got {
				s[i] = p.String()
			}
			if strings.Join(s, " ") != tt.want {
				t.Errorf("networks = %v, want %s", s, tt.want)
			}
			var fields []string
			var e *fault.Error
			if errors.As(fe.Err(), &e) {
				for _, f := range e.Fields {
					fields = append(fields, f.Field)
					if f.Field == "allowed_cidrs" && f.Code != fault.FieldOutOfRange {
						t.Errorf("allowed_cidrs code %s, want %s", f.Code, fault.FieldOutOfRange)
					}
				}
			}
			if !slices.Equal(fields, tt.fields) {
				t.Errorf("field errors on %v, want %v", fields, tt.fields)
			}
		})
	}
}
