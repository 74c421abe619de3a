package bolt

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/directory"
	"github.com/dotenv/apikeys/shared/retention"
	"github.com/dotenv/apikeys/shared/token"
)

// TestPruneEvents: pruning deletes exactly the events older than the bound,
// with their key-filter entries, in every organization, and retention.Keep
// runs it at start.
func TestPruneEvents(t *testing.T) {
	s, _ := openTemp(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	gen := token.NewGenerator()
	var kept []string
	for _, org := range []string{"org_a", "org_b"} {
		at := now
		if err := s.CreateOrganization(ctx, &directory.Organization{ID: org, Name: org, CreatedAt: at, UpdatedAt: at}, mk(t, gen, org, "org_"+org, at)); err != nil {
			t.Fatal(err)
		}
		for _, age := range []time.Duration{500, 401, 399, 1} {
			at := now.Add(-age * 24 * time.Hour)
			ev := mk(t, gen, org, "key_k", at)
			if _, err := s.RenameOrganization(ctx, org, "n", at, ev); err != nil {
				t.Fatal(err)
			}
			if age < 400 && org == "org_a" {
				kept = append(kept, ev.ID)
			}
		}
	}
	p := &countingPruner{Store: s, ran: make(chan struct{}, 1)}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		retention.Keep(runCtx, []retention.Job{{Name: "audit events", Retention: 400 * 24 * time.Hour, Prune: p.PruneEvents}},
			time.Hour, func() time.Time { return now }, slog.New(slog.DiscardHandler))
		close(done)
	}()
	<-p.ran
	cancel()
	<-done
	if p.deleted != 4 {
		t.Errorf("pruned %d events, want 4 (two per organization)", p.deleted)
	}
	page, err := s.ListEvents(ctx, "org_a", audit.Query{Now: now, KeyID: "key_k", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range page.Items {
		got = append(got, ev.ID)
	}
	slices.Reverse(kept)
	if !slices.Equal(got, kept) {
		t.Errorf("key-filter events after pruning = %v, want %v", got, kept)
	}
	if n, err := s.PruneEvents(ctx, now.Add(-400*24*time.Hour)); n != 0 || err != nil {
		t.Errorf("pruning again deleted %d (%v)", n, err)
	}
}

// mk is an event of org on a key target at at.
func mk(t *testing.T, gen *token.Generator, org, key string, at time.Time) audit.Event {
	t.Helper()
	id, err := audit.NewID(gen, at)
	if err != nil {
		t.Fatal(err)
	}
	return audit.Event{ID: id, At: at, OrganizationID: org, Action: audit.OrganizationRenamed,
		Actor: audit.System(audit.SystemRecovery), Target: audit.Target{Type: "key", ID: key}}
}

// countingPruner counts what its store pruned and signals the first run.
type countingPruner struct {
	*Store
	deleted int
	ran     chan struct{}
}

func (c *countingPruner) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	n, err := c.Store.PruneEvents(ctx, before)
	c.deleted += n
	select {
	case c.ran <- struct{}{}:
	default:
	}
	return n, err
}
