package gate_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/gate"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/ratelimit"
	"github.com/dotenv/apikeys/shared/token"
	"github.com/dotenv/apikeys/shared/usage"
)

// uses records what the gate counted.
type uses struct {
	mu  sync.Mutex
	got []usage.Use
}

func (u *uses) Record(_ string, use usage.Use) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.got = append(u.got, use)
}

func (u *uses) take() []usage.Use {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := u.got
	u.got = nil
	return out
}

// TestDecisionsAreCounted: every decision on a token that matched a key is
// counted once, allowed or with its denied reason, with the caller's
// address (without its port) and User-Agent; a token that names no key and
// a principal already authenticated count nothing.
func TestDecisionsAreCounted(t *testing.T) {
	rec := &uses{}
	w := newWorldCounting(t, ratelimit.Config{}, rec)
	g := w.deps.Gate
	ctx := context.Background()
	getEnv, _ := w.deps.Routes.Find(http.MethodGet, "/v1/projects/{project}/targets/{target}/environments/{environment}")
	deleteEnv, _ := w.deps.Routes.Find(http.MethodDelete, getEnv.Pattern)
	unknown, err := token.NewGenerator().New()
	if err != nil {
		t.Fatal(err)
	}
	leaked, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{Name: new("leaked"), AllowAll: new(true), Expiration: new("never")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.deps.Keys.ReportLeak(ctx, keys.LeakReport{Token: leaked.Token, Reporter: "self_report"}); err != nil {
		t.Fatal(err)
	}
	office, err := w.deps.Keys.Create(ctx, w.owner, keys.Spec{Name: new("office"), AllowAll: new(true), Expiration: new("never"),
		AllowedCIDRs: []string{"203.0.113.0/24"}, AllowedCIDRsSet: true})
	if err != nil {
		t.Fatal(err)
	}
	owner := w.owner
	caller := func(tok string) gate.Caller {
		return gate.Caller{Token: tok, Client: "192.0.2.1:5000", UserAgent: "ci/1"}
	}
	const none = usage.Reason("none") // nothing counted
	for _, tc := range []struct {
		name   string
		decide func() (gate.Decision, error)
		want   usage.Reason
	}{
		{"allowed", func() (gate.Decision, error) { return g.Route(ctx, caller(w.ownerToken), getEnv, w.envParams(w.env)) }, ""},
		{"forbidden", func() (gate.Decision, error) {
			return g.Route(ctx, caller(w.scopedToken), deleteEnv, w.envParams(w.env))
		}, usage.ReasonForbidden},
		{"node not found", func() (gate.Decision, error) {
			return g.Route(ctx, caller(w.scopedToken), getEnv, w.envParams("env_missing"))
		}, usage.ReasonForbidden},
		{"unknown route (authorizer)", func() (gate.Decision, error) {
			return g.Resource(ctx, caller(w.ownerToken), "GET", "/v1/nowhere", w.envParams(w.env))
		}, usage.ReasonForbidden},
		{"authenticated only (verify)", func() (gate.Decision, error) {
			return g.Permission(ctx, caller(w.scopedToken), "", authz.Node{})
		}, ""},
		{"permission denied (verify)", func() (gate.Decision, error) {
			return g.Permission(ctx, caller(w.scopedToken), "environments:delete", authz.Node{Environment: w.env})
		}, usage.ReasonForbidden},
		{"expired", func() (gate.Decision, error) { return g.Route(ctx, caller(w.expiredToken), getEnv, w.envParams(w.env)) }, usage.ReasonExpired},
		{"revoked", func() (gate.Decision, error) { return g.Route(ctx, caller(leaked.Token), getEnv, w.envParams(w.env)) }, usage.ReasonRevoked},
		{"outside the key's networks", func() (gate.Decision, error) {
			return g.Route(ctx, caller(office.Token), getEnv, w.envParams(w.env))
		}, usage.ReasonIPNotAllowed},
		{"malformed token", func() (gate.Decision, error) { return g.Route(ctx, caller("dotenv_nope"), getEnv, w.envParams(w.env)) }, none},
		{"unknown token", func() (gate.Decision, error) { return g.Route(ctx, caller(unknown.Token), getEnv, w.envParams(w.env)) }, none},
		{"principal", func() (gate.Decision, error) {
			return g.Route(ctx, gate.Caller{Principal: &owner}, getEnv, w.envParams(w.env))
		}, none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.take()
			if _, err := tc.decide(); err != nil {
				t.Fatal(err)
			}
			got := rec.take()
			if tc.want == none {
				if len(got) != 0 {
					t.Fatalf("counted %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("counted %d uses, want 1", len(got))
			}
			u := got[0]
			if u.Reason != tc.want || u.IP != "192.0.2.1" || u.UserAgent != "ci/1" || !u.At.Equal(w.now) {
				t.Fatalf("counted %+v, want reason %q from 192.0.2.1, ci/1, at %v", u, tc.want, w.now)
			}
			if (tc.want == usage.ReasonExpired || tc.want == usage.ReasonRevoked || tc.want == usage.ReasonIPNotAllowed) != (u.At.Sub(u.Stored) < usage.LastUseInterval) {
				t.Fatalf("an expired, revoked or refused-by-network key's use must not (and any other must) make its last use due: %+v", u)
			}
		})
	}
}
