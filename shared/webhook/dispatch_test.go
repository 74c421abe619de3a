package webhook_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dotenv/apikeys/shared/audit"
	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/safehttp"
	"github.com/dotenv/apikeys/shared/stdwebhook"
	"github.com/dotenv/apikeys/shared/store/bolt"
	"github.com/dotenv/apikeys/shared/store/storetest"
	"github.com/dotenv/apikeys/shared/webhook"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// received is one request the receiver got, verified or not.
type received struct {
	id, eventType string
	verified      error
	body          []byte
	header        http.Header
}

// receiver is a webhook destination that verifies every signature with the
// Standard Webhooks project's own library (not this module's code) and
// answers what answer says.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int) (status int, delay time.Duration)
	secret stdwebhook.Secret
	// ignoreTimestamp verifies without the library's 5-minute tolerance
	// (for tests whose clock runs ahead of the real one).
	ignoreTimestamp bool
}

func newReceiver(t *testing.T, answer func(n int) (int, time.Duration)) *receiver {
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		wh, err := standardwebhooks.NewWebhook(string(r.secret))
		if err == nil {
			if r.ignoreTimestamp {
				err = wh.VerifyIgnoringTimestamp(body, req.Header)
			} else {
				err = wh.Verify(body, req.Header)
			}
		}
		var p struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &p)
		r.got = append(r.got, received{id: req.Header.Get("webhook-id"), eventType: p.Type, verified: err, body: body, header: req.Header.Clone()})
		r.mu.Unlock()
		status, delay := r.answer(n)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func always(status int) func(int) (int, time.Duration) {
	return func(int) (int, time.Duration) { return status, 0 }
}

type fixture struct {
	store *bolt.Store
	clock *clock
	svc   *webhook.Service
	disp  *webhook.Dispatcher
	safe  safehttp.Options
	org   authz.Principal
}

func newFixture(t *testing.T, safe safehttp.Options) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	f := &fixture{store: st, clock: c, safe: safe, org: authz.Principal{OrganizationID: "org_test", KeyID: "key_caller"}}
	f.svc = webhook.NewService(st, safe.CheckURL, nil, rand.Reader, c.Now)
	f.disp = webhook.NewDispatcher(st, webhook.DispatcherOptions{Safe: safe, Now: c.Now, Jitter: func() float64 { return 1 }})
	return f
}

func (f *fixture) endpoint(t *testing.T, r *receiver, events ...string) *webhook.Endpoint {
	t.Helper()
	url := r.URL + "/hook"
	if len(events) == 0 {
		events = []string{webhook.EventKeyCreated}
	}
	e, err := f.svc.Create(t.Context(), f.org, webhook.Spec{URL: &url, Events: &events})
	if err != nil {
		t.Fatalf("Create endpoint: %v", err)
	}
	r.secret = e.Secret
	return e
}

// notify publishes a key.created change notice of a fresh audit event and
// returns the one delivery it queued.
func (f *fixture) notify(t *testing.T) *webhook.Delivery {
	t.Helper()
	data, _ := json.Marshal(webhook.KeyData{OrganizationID: f.org.OrganizationID, Key: webhook.KeyRef{ID: "key_new", Name: "CI"}})
	n := webhook.PendingNotice{EventID: "evt_" + rand.Text(), OrganizationID: f.org.OrganizationID, At: f.clock.Now(),
		Notice: audit.Notice{Type: webhook.EventKeyCreated, Data: data}}
	stored, err := f.disp.Publish(t.Context(), n)
	if err != nil || stored != 1 {
		t.Fatalf("Publish = %d deliveries, %v; want 1", stored, err)
	}
	es, _, err := f.store.ListWebhooks(t.Context(), f.org.OrganizationID)
	if err != nil || len(es) != 1 {
		t.Fatalf("ListWebhooks = %d, %v; want the one endpoint", len(es), err)
	}
	ds, _, err := f.store.ListDeliveries(t.Context(), es[0].ID, 1)
	if err != nil || len(ds) != 1 {
		t.Fatalf("ListDeliveries = %d, %v; want the new delivery", len(ds), err)
	}
	return ds[0]
}

func (f *fixture) run(t *testing.T) int {
	t.Helper()
	n, err := f.disp.RunDue(t.Context())
	if err != nil {
		t.Fatalf("RunDue: %v", err)
	}
	return n
}

func (f *fixture) delivery(t *testing.T, d *webhook.Delivery) *webhook.Delivery {
	t.Helper()
	got, err := f.store.GetDelivery(t.Context(), d.EndpointID, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

var loopback = safehttp.Options{AllowLoopback: true, Timeout: 2 * time.Second}

func TestDeliveryIsSignedPerStandardWebhooks(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusNoContent))
	f.endpoint(t, r)
	d := f.notify(t)
	if n := f.run(t); n != 1 {
		t.Fatalf("RunDue sent %d, want 1", n)
	}
	got := r.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	if got[0].verified != nil {
		t.Fatalf("the Standard Webhooks library refused the delivery: %v", got[0].verified)
	}
	if got[0].id != d.ID || got[0].eventType != webhook.EventKeyCreated {
		t.Fatalf("webhook-id %q type %q, want %q key.created", got[0].id, got[0].eventType, d.ID)
	}
	if ct := got[0].header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	dl := f.delivery(t, d)
	if dl.State != webhook.StateDelivered || len(dl.Attempts) != 1 || dl.Attempts[0].Status != 204 || !dl.NextAttemptAt.IsZero() {
		t.Fatalf("after a 204: %+v", dl)
	}
	if n := f.run(t); n != 0 || len(r.requests()) != 1 {
		t.Fatalf("a delivered delivery was sent again")
	}
}

func TestRetriesWithTheSameIDUntilA2xx(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, func(n int) (int, time.Duration) {
		if n < 2 {
			return http.StatusInternalServerError, 0
		}
		return http.StatusOK, 0
	})
	f.endpoint(t, r)
	d := f.notify(t)
	f.run(t)
	dl := f.delivery(t, d)
	if dl.State != webhook.StatePending || dl.Attempts[0].Status != 500 || dl.Attempts[0].Error == "" {
		t.Fatalf("after a 500: %+v", dl)
	}
	// Jitter 1: the first wait is the whole 30 s.
	if wait := dl.NextAttemptAt.Sub(dl.Attempts[0].At); wait < webhook.BaseDelay || wait > webhook.BaseDelay+time.Second {
		t.Fatalf("first wait %s, want about %s", wait, webhook.BaseDelay)
	}
	f.clock.Add(20 * time.Second)
	if n := f.run(t); n != 0 {
		t.Fatalf("sent %d before the backoff passed", n)
	}
	f.clock.Add(11 * time.Second)
	f.run(t) // 500 again; next wait 60 s
	f.clock.Add(61 * time.Second)
	f.run(t) // 200
	dl = f.delivery(t, d)
	if dl.State != webhook.StateDelivered || len(dl.Attempts) != 3 {
		t.Fatalf("after 500, 500, 200: %+v", dl)
	}
	for i, g := range r.requests() {
		if g.id != d.ID || g.verified != nil {
			t.Fatalf("request %d: id %q (want %q), verified %v", i, g.id, d.ID, g.verified)
		}
	}
}

func TestATimeoutIsAFailedAttempt(t *testing.T) {
	safe := safehttp.Options{AllowLoopback: true, Timeout: 300 * time.Millisecond}
	f := newFixture(t, safe)
	r := newReceiver(t, func(int) (int, time.Duration) { return http.StatusOK, 3 * time.Second })
	f.endpoint(t, r)
	d := f.notify(t)
	f.run(t)
	dl := f.delivery(t, d)
	if dl.State != webhook.StatePending || len(dl.Attempts) != 1 || dl.Attempts[0].Status != 0 || dl.Attempts[0].Error != "timed out" {
		t.Fatalf("after a timeout: %+v", dl)
	}
}

func TestGivesUpAfterTheRetryWindow(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusInternalServerError))
	f.endpoint(t, r)
	d := f.notify(t)
	start := f.clock.Now()
	for range 100 {
		f.run(t)
		dl := f.delivery(t, d)
		if dl.State != webhook.StatePending {
			break
		}
		f.clock.t = dl.NextAttemptAt
	}
	dl := f.delivery(t, d)
	if dl.State != webhook.StateFailed {
		t.Fatalf("still %s after %d attempts", dl.State, len(dl.Attempts))
	}
	last := dl.Attempts[len(dl.Attempts)-1].At
	if span := last.Sub(start); span < webhook.RetryWindow {
		t.Fatalf("gave up after %s, want at least %s", span, webhook.RetryWindow)
	}
	for i := 1; i < len(dl.Attempts); i++ {
		if gap := dl.Attempts[i].At.Sub(dl.Attempts[i-1].At); gap > webhook.MaxDelay+time.Second {
			t.Fatalf("wait %d was %s, above the %s cap", i, gap, webhook.MaxDelay)
		}
	}
	t.Logf("%d attempts over %s", len(dl.Attempts), last.Sub(start))

	// A manual retry re-queues it with the same webhook-id.
	before := len(r.requests())
	if _, err := f.svc.Retry(t.Context(), f.org, d.EndpointID, d.ID); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	f.run(t)
	got := r.requests()
	if len(got) != before+1 || got[len(got)-1].id != d.ID {
		t.Fatalf("manual retry: %d requests (want %d), last id %q", len(got), before+1, got[len(got)-1].id)
	}
}

func TestACrashedAttemptIsResentWithTheSameIDAfterItsLease(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusOK))
	f.endpoint(t, r)
	d := f.notify(t)
	// A dispatcher claimed the attempt and died before recording it.
	claimed := d.Clone()
	claimed.Attempts = []webhook.Attempt{{At: f.clock.Now()}}
	claimed.NextAttemptAt, claimed.Version = f.clock.Now().Add(webhook.Lease), 2
	if err := f.store.UpdateDelivery(t.Context(), claimed, 1); err != nil {
		t.Fatal(err)
	}
	if n := f.run(t); n != 0 {
		t.Fatalf("sent %d while the lease runs", n)
	}
	if _, err := f.svc.Retry(t.Context(), f.org, d.EndpointID, d.ID); err == nil {
		t.Fatal("a manual retry of a running attempt was accepted")
	}
	f.clock.Add(webhook.Lease + time.Second)
	if n := f.run(t); n != 1 {
		t.Fatalf("sent %d after the lease, want 1", n)
	}
	dl := f.delivery(t, d)
	if dl.State != webhook.StateDelivered || len(dl.Attempts) != 2 || dl.Attempts[0].Error == "" {
		t.Fatalf("after the takeover: %+v", dl)
	}
	if got := r.requests(); len(got) != 1 || got[0].id != d.ID {
		t.Fatalf("receiver got %v", got)
	}
}

func TestTwoDispatchersSendOnce(t *testing.T) {
	f := newFixture(t, loopback)
	var hits atomic.Int32
	r := newReceiver(t, func(int) (int, time.Duration) { hits.Add(1); return http.StatusOK, 50 * time.Millisecond })
	f.endpoint(t, r)
	for range 5 {
		f.notify(t)
	}
	other := webhook.NewDispatcher(f.store, webhook.DispatcherOptions{Safe: loopback, Now: f.clock.Now})
	var wg sync.WaitGroup
	for _, d := range []*webhook.Dispatcher{f.disp, other, f.disp, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := d.RunDue(t.Context()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := hits.Load(); n != 5 {
		t.Fatalf("receiver got %d requests for 5 deliveries", n)
	}
}

func TestARotatedSecretSignsWithBothDuringTheOverlap(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusOK))
	e := f.endpoint(t, r)
	old := e.Secret
	rotated, err := f.svc.RotateSecret(t.Context(), f.org, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Secret == old {
		t.Fatal("the secret did not change")
	}
	for _, secret := range []stdwebhook.Secret{old, rotated.Secret} {
		r.secret = secret
		f.notify(t)
		f.run(t)
		got := r.requests()
		if err := got[len(got)-1].verified; err != nil {
			t.Fatalf("a receiver holding one of the two secrets refused: %v", err)
		}
	}
	f.clock.Add(webhook.SecretOverlap + time.Minute)
	r.secret, r.ignoreTimestamp = old, true
	f.notify(t)
	f.run(t)
	got := r.requests()
	if got[len(got)-1].verified == nil {
		t.Fatal("the previous secret still signs after the overlap")
	}
}

func TestLoopbackIsRefusedWithoutTheDevelopmentSwitch(t *testing.T) {
	prod := safehttp.Options{Timeout: time.Second}
	f := newFixture(t, loopback) // saved while the switch was on
	r := newReceiver(t, always(http.StatusOK))
	f.endpoint(t, r)
	d := f.notify(t)
	strict := webhook.NewDispatcher(f.store, webhook.DispatcherOptions{Safe: prod, Now: f.clock.Now})
	if _, err := strict.RunDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	dl := f.delivery(t, d)
	if len(r.requests()) != 0 || dl.Attempts[0].Error == "" || dl.Attempts[0].Status != 0 {
		t.Fatalf("a loopback destination was dialled in production mode: %+v", dl)
	}
	url := r.URL
	events := []string{webhook.EventKeyCreated}
	svc := webhook.NewService(f.store, prod.CheckURL, nil, rand.Reader, f.clock.Now)
	if _, err := svc.Create(t.Context(), f.org, webhook.Spec{URL: &url, Events: &events}); err == nil {
		t.Fatal("a loopback URL was saved in production mode")
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{1, 1, 30 * time.Second},
		{2, 1, time.Minute},
		{3, 0.5, time.Minute},
		{8, 1, 64 * time.Minute},
		{9, 1, webhook.MaxDelay},
		{50, 1, webhook.MaxDelay},
		{1, 0, time.Second},
	} {
		if got := webhook.Backoff(tc.n, func() float64 { return tc.r }); got != tc.want {
			t.Errorf("Backoff(%d, %v) = %s, want %s", tc.n, tc.r, got, tc.want)
		}
	}
}

func newKey(id, org string, expires time.Time) *keys.Key {
	return &keys.Key{ID: id, OrganizationID: org, Name: "name of " + id,
		Access: authz.Access{AllowAll: true, ExpiresAt: expires}, Hint: "dotenv_x…y", CreatedAt: expires.Add(-90 * 24 * time.Hour), Version: 1}
}

func TestSweepSendsEachNoticeOnce(t *testing.T) {
	f := newFixture(t, loopback)
	r := newReceiver(t, always(http.StatusOK))
	f.endpoint(t, r, webhook.EventKeyExpiring, webhook.EventKeyExpired)
	now := f.clock.Now()
	org := f.org.OrganizationID
	for _, k := range []*keys.Key{
		newKey("key_week", org, now.Add(3*24*time.Hour)),
		newKey("key_day", org, now.Add(12*time.Hour)),
		newKey("key_gone", org, now.Add(-time.Hour)),
		newKey("key_later", org, now.Add(30*24*time.Hour)),
		newKey("key_never", org, time.Time{}),
		newKey("key_other", "org_other", now.Add(time.Hour)),
	} {
		if err := f.store.CreateKey(t.Context(), k, storetest.Event()); err != nil {
			t.Fatal(err)
		}
	}
	sweep := func() int {
		n, err := f.disp.Sweep(t.Context())
		if err != nil {
			t.Fatalf("Sweep: %v", err)
		}
		return n
	}
	if n := sweep(); n != 3 {
		t.Fatalf("first sweep stored %d notices, want 3", n)
	}
	if n := sweep(); n != 0 {
		t.Fatalf("second sweep stored %d notices, want 0", n)
	}
	f.run(t)
	type notice struct{ typ, key, window string }
	var got []notice
	for _, g := range r.requests() {
		var p struct {
			Type string `json:"type"`
			Data struct {
				Key    struct{ ID, Name string } `json:"key"`
				Window string                    `json:"window"`
			} `json:"data"`
		}
		if err := json.Unmarshal(g.body, &p); err != nil || g.verified != nil {
			t.Fatalf("notice %s: %v / %v", g.body, err, g.verified)
		}
		got = append(got, notice{p.Type, p.Data.Key.ID, p.Data.Window})
	}
	slices.SortFunc(got, func(a, b notice) int { return cmpString(a.key, b.key) })
	want := []notice{{"key.expiring", "key_day", "1d"}, {"key.expired", "key_gone", ""}, {"key.expiring", "key_week", "7d"}}
	if !slices.Equal(got, want) {
		t.Fatalf("notices %v, want %v", got, want)
	}
	// Two days and a half later key_week enters its last day: one more
	// notice; key_day has expired: one more.
	f.clock.Add(60 * time.Hour)
	if n := sweep(); n != 2 {
		t.Fatalf("sweep 60h later stored %d notices, want 2 (key_week 1d, key_day expired)", n)
	}
	// An edit of the expiry re-arms the notices.
	k, _ := f.store.GetKey(t.Context(), "key_week")
	moved := k.Clone()
	moved.ExpiresAt, moved.Version = f.clock.Now().Add(5*24*time.Hour), 2
	if err := f.store.UpdateKey(t.Context(), moved, 1, storetest.Event()); err != nil {
		t.Fatal(err)
	}
	if n := sweep(); n != 1 {
		t.Fatalf("sweep after a new expiry stored %d notices, want 1", n)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestARedirectIsAFailedAttemptNotFollowed(t *testing.T) {
	f := newFixture(t, loopback)
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { followed.Add(1) }))
	defer target.Close()
	r := newReceiver(t, always(http.StatusOK))
	r.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.URL, http.StatusTemporaryRedirect)
	})
	f.endpoint(t, r)
	d := f.notify(t)
	f.run(t)
	dl := f.delivery(t, d)
	if followed.Load() != 0 {
		t.Fatal("the redirect was followed")
	}
	if dl.State != webhook.StatePending || dl.Attempts[0].Status != http.StatusTemporaryRedirect || dl.Attempts[0].Error == "" {
		t.Fatalf("after a 307: %+v", dl)
	}
}
