// Package token generates, parses and checks API key tokens.
//
// A token is "dotenv_" + selector (16 base62 chars) + verifier (32 base62
// chars) + checksum (6 base62 chars, CRC32 of everything before it). The
// selector names the key (key id = "key_" + selector) so verification is one
// read by primary key; the verifier is stored only as a SHA-256 digest and
// compared in constant time; the checksum lets a mistyped or invented token be
// refused without touching storage. This is the only package that touches
// crypto/rand or the digest.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

const (
	// Prefix starts every token; secret scanners can match on it.
	Prefix = "dotenv_"
	// SelectorLen is the number of base62 characters of the selector.
	SelectorLen = 16
	// VerifierLen is the number of base62 characters of the verifier
	// (32 × log2(62) ≈ 190.5 bits of entropy).
	VerifierLen = 32
	// ChecksumLen is the number of base62 characters of the CRC32 checksum.
	ChecksumLen = 6
	// Len is the total length of a token.
	Len = len(Prefix) + SelectorLen + VerifierLen + ChecksumLen
	// KeyIDPrefix starts every key id.
	KeyIDPrefix = "key_"

	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// Digest is the SHA-256 digest of a verifier, the only form in which a secret
// is stored.
type Digest [sha256.Size]byte

// Errors returned by Parse. They all wrap ErrMalformed.
var (
	ErrMalformed = errors.New("malformed token")
	errPrefix    = fmt.Errorf("%w: wrong prefix", ErrMalformed)
	errLength    = fmt.Errorf("%w: wrong length", ErrMalformed)
	errAlphabet  = fmt.Errorf("%w: character outside base62", ErrMalformed)
	errChecksum  = fmt.Errorf("%w: checksum mismatch", ErrMalformed)
)

// Parsed is a token that passed the format and checksum checks. Its fields
// are substrings of the parsed text: parsing allocates nothing.
type Parsed struct {
	Selector string
	Verifier string
}

// KeyID is the id of the key the token names.
func (p Parsed) KeyID() string { return KeyIDPrefix + p.Selector }

// Digest returns the SHA-256 digest of the verifier.
func (p Parsed) Digest() Digest { return sha256.Sum256([]byte(p.Verifier)) }

// Matches reports, in constant time, whether the verifier's digest equals d.
func (p Parsed) Matches(d Digest) bool {
	got := p.Digest()
	return got.Equal(d)
}

// Equal reports, in constant time, whether two digests are equal: a
// verifier hashed once can be compared with several stored digests.
func (d Digest) Equal(o Digest) bool {
	return subtle.ConstantTimeCompare(d[:], o[:]) == 1
}

// isBase62 is indexed by byte; true for the 62 alphabet characters.
var isBase62 = func() (t [256]bool) {
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = true
	}
	return t
}()

// Parse checks a token's prefix, length, alphabet and checksum, in that
// order, without any I/O.
func Parse(s string) (Parsed, error) {
	if len(s) < len(Prefix) || s[:len(Prefix)] != Prefix {
		return Parsed{}, errPrefix
	}
	if len(s) != Len {
		return Parsed{}, errLength
	}
	for i := len(Prefix); i < Len; i++ {
		if !isBase62[s[i]] {
			return Parsed{}, errAlphabet
		}
	}
	var want [ChecksumLen]byte
	encodeChecksum(&want, checksum(s[:Len-ChecksumLen]))
	if string(want[:]) != s[Len-ChecksumLen:] {
		return Parsed{}, errChecksum
	}
	sel := s[len(Prefix) : len(Prefix)+SelectorLen]
	return Parsed{Selector: sel, Verifier: s[len(Prefix)+SelectorLen : Len-ChecksumLen]}, nil
}

// Generator makes new tokens from a source of randomness.
type Generator struct {
	random io.Reader
}

// NewGenerator returns a Generator reading from crypto/rand.
func NewGenerator() *Generator { return &Generator{random: rand.Reader} }

// NewGeneratorFrom returns a Generator reading from r; tests use it for
// deterministic tokens.
func NewGeneratorFrom(r io.Reader) *Generator { return &Generator{random: r} }

// Secret is a freshly generated token with the values stored for it.
type Secret struct {
	// Token is the whole token, shown to the user exactly once.
	Token string
	// Parsed holds the selector and verifier inside Token.
	Parsed
}

// New returns a new token with a random selector and verifier.
func (g *Generator) New() (Secret, error) {
	sel, err := g.randomString(SelectorLen)
	if err != nil {
		return Secret{}, err
	}
	return g.WithSelector(sel)
}

// WithSelector returns a new token for an existing selector (rotation keeps
// the key id and replaces the verifier).
func (g *Generator) WithSelector(selector string) (Secret, error) {
	if len(selector) != SelectorLen {
		return Secret{}, fmt.Errorf("token: selector must be %d characters", SelectorLen)
	}
	ver, err := g.randomString(VerifierLen)
	if err != nil {
		return Secret{}, err
	}
	buf := make([]byte, 0, Len)
	buf = append(buf, Prefix...)
	buf = append(buf, selector...)
	buf = append(buf, ver...)
	var sum [ChecksumLen]byte
	encodeChecksum(&sum, checksum(string(buf)))
	buf = append(buf, sum[:]...)
	tok := string(buf)
	p, err := Parse(tok)
	if err != nil {
		return Secret{}, fmt.Errorf("token: generated an invalid token: %w", err)
	}
	return Secret{Token: tok, Parsed: p}, nil
}

// randomString returns n base62 characters drawn uniformly by rejection
// sampling (bytes ≥ 248 are dropped so that modulo 62 has no bias).
func (g *Generator) randomString(n int) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+8)
	for len(out) < n {
		if _, err := io.ReadFull(g.random, buf); err != nil {
			return "", fmt.Errorf("token: reading randomness: %w", err)
		}
		for _, b := range buf {
			if b >= 248 {
				continue
			}
			out = append(out, alphabet[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// RandomID returns prefix + n random base62 characters, for ids of other
// objects (organizations, directory nodes).
func (g *Generator) RandomID(prefix string, n int) (string, error) {
	s, err := g.randomString(n)
	if err != nil {
		return "", err
	}
	return prefix + s, nil
}

// Hint returns the recognisable part of a token: the prefix, the first four
// characters of the selector and the last four of the token. It reveals
// nothing of the verifier.
func Hint(p Parsed, tok string) string {
	return Prefix + p.Selector[:4] + "…" + tok[len(tok)-4:]
}

// checksum is the IEEE CRC32 of s, computed over the string directly so
// that parsing allocates nothing (crc32.ChecksumIEEE would need a []byte
// copy on the heap).
func checksum(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

func encodeChecksum(dst *[ChecksumLen]byte, v uint32) {
	for i := ChecksumLen - 1; i >= 0; i-- {
		dst[i] = alphabet[v%62]
		v /= 62
	}
}

// Redacted stands in for a token found in text kept from a request.
const Redacted = Prefix + "[redacted]"

// Redact replaces every token-shaped run in s (Prefix followed by base62
// characters and underscores, whatever their number: tokens written back
// to back are one run) with Redacted. Text a client sends
// besides its token (a User-Agent, a request id, a leak report's URL) may
// quote a token, by mistake or to have it reflected: what the service keeps
// of such text and shows to others goes through Redact. Text without the
// prefix is returned as is, without copying.
func Redact(s string) string {
	if !strings.Contains(s, Prefix) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, Prefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(Redacted)
		j := i + len(Prefix)
		for j < len(s) && (isBase62[s[j]] || s[j] == '_') {
			j++
		}
		s = s[j:]
	}
}
