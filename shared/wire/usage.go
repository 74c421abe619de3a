package wire

import (
	"time"

	"github.com/dotenv/apikeys/shared/keys"
	"github.com/dotenv/apikeys/shared/usage"
)

// KeyUsage is the answer of GET /v1/api-keys/{id}/usage (docs/http-api.md,
// "Usage"): the last usage.Days UTC days, oldest first, zero days
// included, their totals and the key's last uses.
type KeyUsage struct {
	KeyID  string     `json:"key_id"`
	From   string     `json:"from"`
	To     string     `json:"to"`
	Days   []UsageDay `json:"days"`
	Totals UsageCount `json:"totals"`

	LastUsedAt                     *string `json:"last_used_at,omitempty"`
	LastUsedIP                     string  `json:"last_used_ip,omitempty"`
	LastUsedUserAgent              string  `json:"last_used_user_agent,omitempty"`
	PreviousTokenLastUsedAt        *string `json:"previous_token_last_used_at,omitempty"`
	PreviousTokenLastUsedIP        string  `json:"previous_token_last_used_ip,omitempty"`
	PreviousTokenLastUsedUserAgent string  `json:"previous_token_last_used_user_agent,omitempty"`
}

// UsageCount is verifications allowed and denied, the denied ones by
// reason (only reasons that occurred).
type UsageCount struct {
	Allowed  int64            `json:"allowed"`
	Denied   int64            `json:"denied"`
	DeniedBy map[string]int64 `json:"denied_by"`
}

// UsageDay is one UTC day's counts (UsageCount's fields and the date).
type UsageDay struct {
	Date     string           `json:"date"`
	Allowed  int64            `json:"allowed"`
	Denied   int64            `json:"denied"`
	DeniedBy map[string]int64 `json:"denied_by"`
}

func usageCountOf(c usage.Counts) UsageCount {
	out := UsageCount{Allowed: c.Allowed, Denied: c.DeniedTotal(), DeniedBy: map[string]int64{}}
	for i, r := range usage.Reasons {
		if c.Denied[i] != 0 {
			out.DeniedBy[string(r)] = c.Denied[i]
		}
	}
	return out
}

// KeyUsageOf shapes key k's stored days (usage.Store.KeyUsage, any order)
// for the window ending on now's UTC day.
func KeyUsageOf(k *keys.Key, days []usage.Day, now time.Time) KeyUsage {
	from, to := usage.Window(now)
	byDate := make(map[string]usage.Counts, len(days))
	for _, d := range days {
		c := byDate[d.Date]
		c.Add(d.Counts)
		byDate[d.Date] = c
	}
	out := KeyUsage{KeyID: k.ID, From: from, To: to, Days: make([]UsageDay, 0, usage.Days)}
	var total usage.Counts
	start := now.UTC().AddDate(0, 0, -(usage.Days - 1))
	for i := range usage.Days {
		date := usage.Date(start.AddDate(0, 0, i))
		c := byDate[date]
		total.Add(c)
		dc := usageCountOf(c)
		out.Days = append(out.Days, UsageDay{Date: date, Allowed: dc.Allowed, Denied: dc.Denied, DeniedBy: dc.DeniedBy})
	}
	out.Totals = usageCountOf(total)
	w := KeyOf(k, nil, now)
	out.LastUsedAt, out.LastUsedIP, out.LastUsedUserAgent = w.LastUsedAt, w.LastUsedIP, w.LastUsedUserAgent
	out.PreviousTokenLastUsedAt, out.PreviousTokenLastUsedIP, out.PreviousTokenLastUsedUserAgent = w.PreviousTokenLastUsedAt, w.PreviousTokenLastUsedIP, w.PreviousTokenLastUsedUserAgent
	return out
}
