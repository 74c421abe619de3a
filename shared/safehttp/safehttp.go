// Package safehttp is the HTTP client for destinations a customer chose
// (webhook endpoints): HTTPS only, public addresses only, checked when the
// connection is made (so a name that resolves to a private address at
// delivery time, DNS rebinding, is refused even if it was public when the
// endpoint was saved), redirects not followed, and a hard timeout. See
// docs/security.md, "Webhooks".
package safehttp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrDestination wraps every refusal of a destination.
var ErrDestination = errors.New("safehttp: destination not allowed")

// Options configure a Client.
type Options struct {
	// Timeout bounds a whole request (connect, TLS, headers and body).
	// Zero means 10 seconds.
	Timeout time.Duration
	// AllowLoopback admits URLs whose address is a loopback address
	// (127.0.0.0/8, ::1), over https:// and plain http://, and nothing
	// else that is not public; plain http:// reaches loopback only, never
	// a public host. A development and test switch: production leaves it
	// off.
	AllowLoopback bool
}

// blocked are the ranges no delivery may reach besides the ones the netip
// predicates name (private, loopback, link-local — which includes the
// cloud metadata address 169.254.169.254 —, multicast, unspecified).
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: embeds IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds IPv4
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds IPv4
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),        // discard-only
}

// Public reports whether addr is a public unicast address a delivery may
// reach. IPv4-mapped IPv6 addresses are judged as the IPv4 address.
func Public(addr netip.Addr) bool {
	addr = addr.Unmap()
	if !addr.IsValid() || !addr.IsGlobalUnicast() || addr.IsPrivate() || addr.IsLoopback() ||
		addr.IsLinkLocalUnicast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// allowed reports whether a connection to addr is admitted.
func (o Options) allowed(addr netip.Addr) bool {
	return Public(addr) || (o.AllowLoopback && addr.Unmap().IsLoopback())
}

// loopbackOnly reports whether a plain-http connection to addr is
// admitted: with AllowLoopback, to loopback only.
func (o Options) loopbackOnly(addr netip.Addr) bool {
	return o.AllowLoopback && addr.Unmap().IsLoopback()
}

// CheckURL validates a destination as it is saved: an absolute https URL
// (http only with AllowLoopback, and only to localhost or a loopback
// address) with a host, no user info, no fragment. A host that is an IP
// literal must be allowed; a name is checked again at every connection.
func (o Options) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: not a URL", ErrDestination)
	}
	switch {
	case u.Scheme != "https" && !(o.AllowLoopback && u.Scheme == "http"):
		return fmt.Errorf("%w: the URL must start with https://", ErrDestination)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%w: the URL has no host", ErrDestination)
	case u.User != nil:
		return fmt.Errorf("%w: the URL must not carry a user or password", ErrDestination)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return fmt.Errorf("%w: the URL must not carry a fragment", ErrDestination)
	case len(raw) > 2048:
		return fmt.Errorf("%w: the URL is longer than 2048 characters", ErrDestination)
	}
	addr, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]"))
	literal := err == nil
	if literal && !o.allowed(addr) {
		return fmt.Errorf("%w: %s is not a public address", ErrDestination, addr)
	}
	localhost := strings.EqualFold(u.Hostname(), "localhost")
	if localhost && !o.AllowLoopback {
		return fmt.Errorf("%w: localhost is not a public address", ErrDestination)
	}
	if u.Scheme == "http" && !localhost && !(literal && o.loopbackOnly(addr)) {
		return fmt.Errorf("%w: the URL must start with https:// (plain http:// reaches loopback only)", ErrDestination)
	}
	return nil
}

// NewClient returns an http.Client that enforces o on every connection:
// the address actually dialled (after DNS) must be allowed, redirects are
// answered as they are (not followed), proxies from the environment are
// not used, and every request ends within the timeout.
func NewClient(o Options) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	guard := schemeGuard{https: newTransport(o, o.allowed, "not a public address")}
	if o.AllowLoopback {
		// Plain http has a transport of its own, whose every connection
		// must reach loopback: a public host over http is refused when
		// dialled, whatever its name resolves to.
		guard.http = newTransport(o, o.loopbackOnly, "not a loopback address (plain http:// reaches loopback only)")
	}
	return &http.Client{
		Transport: guard,
		Timeout:   o.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// newTransport returns a transport whose every connection goes to an
// address admit allows (refused saying why).
func newTransport(o Options, admit func(netip.Addr) bool, why string) *http.Transport {
	dialer := &net.Dialer{
		Timeout: o.Timeout,
		// Control runs for every address the dialer tries, after name
		// resolution: the one place a rebinding name cannot get past.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrDestination, address)
			}
			if !admit(ap.Addr()) {
				return fmt.Errorf("%w: %s is %s", ErrDestination, ap.Addr(), why)
			}
			return nil
		},
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   o.Timeout,
		ResponseHeaderTimeout: o.Timeout,
	}
}

// schemeGuard sends https requests through https, and plain http ones
// through http, which only the development switch sets (and whose dial
// check limits them to loopback); otherwise plain http is refused.
type schemeGuard struct {
	https, http http.RoundTripper
}

// RoundTrip sends r when its scheme is allowed.
func (g schemeGuard) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.URL.Scheme == "https":
		return g.https.RoundTrip(r)
	case r.URL.Scheme == "http" && g.http != nil:
		return g.http.RoundTrip(r)
	}
	return nil, fmt.Errorf("%w: only https destinations", ErrDestination)
}

// Refused reports whether err is a refusal of the destination (as opposed
// to a network failure or a timeout).
func Refused(err error) bool { return errors.Is(err, ErrDestination) }
