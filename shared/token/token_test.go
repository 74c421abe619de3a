package token

import (
	"bytes"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

func TestGenerateParseRoundTrip(t *testing.T) {
	g := NewGenerator()
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		s, err := g.New()
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Token) != Len || !strings.HasPrefix(s.Token, Prefix) {
			t.Fatalf("token has length %d, want %d with prefix %s", len(s.Token), Len, Prefix)
		}
		p, err := Parse(s.Token)
		if err != nil {
			t.Fatalf("parse of a generated token failed: %v", err)
		}
		if p != s.Parsed || p.KeyID() != "key_"+p.Selector || !p.Matches(s.Digest()) {
			t.Fatalf("round trip mismatch")
		}
		if seen[p.Selector] {
			t.Fatalf("selector repeated after %d tokens", i)
		}
		seen[p.Selector] = true
	}
}

func TestParseRejects(t *testing.T) {
	good, err := NewGeneratorFrom(bytes.NewReader(bytes.Repeat([]byte{7, 99, 200, 13}, 100))).New()
	if err != nil {
		t.Fatal(err)
	}
	tok := good.Token
	flip := func(i int) string {
		b := []byte(tok)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", errPrefix},
		{"wrong prefix", "dotenx_" + tok[7:], errPrefix},
		{"uppercase prefix", "DOTENV_" + tok[7:], errPrefix},
		{"bearer pasted", "Bearer " + tok, errPrefix},
		{"too short", tok[:Len-1], errLength},
		{"too long", tok + "a", errLength},
		{"dash", tok[:10] + "-" + tok[11:], errAlphabet},
		{"underscore in body", tok[:20] + "_" + tok[21:], errAlphabet},
		{"non-ascii", tok[:20] + "é" + tok[22:], errAlphabet},
		{"selector typo", flip(10), errChecksum},
		{"verifier typo", flip(40), errChecksum},
		{"checksum typo", flip(Len - 1), errChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tok[7:]) {
				t.Fatal("error message contains token material")
			}
		})
	}
}

func TestChecksumIsCRC32OfTheRest(t *testing.T) {
	s, err := NewGenerator().New()
	if err != nil {
		t.Fatal(err)
	}
	var want [ChecksumLen]byte
	encodeChecksum(&want, crc32.ChecksumIEEE([]byte(s.Token[:Len-ChecksumLen])))
	if got := s.Token[Len-ChecksumLen:]; got != string(want[:]) {
		t.Fatalf("checksum %s, want %s", got, want)
	}
}

func TestRandomnessIsUniformEnough(t *testing.T) {
	// Rejection sampling must never emit a biased character: feed only
	// bytes ≥ 248 first (all rejected) then valid ones.
	src := append(bytes.Repeat([]byte{255}, 64), bytes.Repeat([]byte{61}, 64)...)
	got, err := NewGeneratorFrom(bytes.NewReader(src)).randomString(8)
	if err != nil {
		t.Fatal(err)
	}
	if got != "zzzzzzzz" {
		t.Fatalf("randomString = %q, want only the character for 61", got)
	}
}

func TestVerifierEntropy(t *testing.T) {
	// 32 base62 characters carry at least 190 bits.
	const bitsPerChar = 5.954 // log2(62)
	if bits := float64(VerifierLen) * bitsPerChar; bits < 190 {
		t.Fatalf("verifier has %.1f bits, want ≥ 190", bits)
	}
}

func TestMatchesRejectsOtherDigest(t *testing.T) {
	g := NewGenerator()
	a, _ := g.New()
	b, _ := g.WithSelector(a.Selector)
	if a.Token == b.Token || a.KeyID() != b.KeyID() {
		t.Fatal("rotation must keep the key id and change the token")
	}
	if a.Matches(b.Digest()) || !b.Matches(b.Digest()) {
		t.Fatal("digest comparison is wrong")
	}
}

func TestHintRevealsNoVerifier(t *testing.T) {
	s, _ := NewGenerator().New()
	h := Hint(s.Parsed, s.Token)
	if !strings.HasPrefix(h, Prefix+s.Selector[:4]) || !strings.HasSuffix(h, s.Token[Len-4:]) {
		t.Fatalf("hint %q", h)
	}
	if strings.Contains(h, s.Verifier[:8]) {
		t.Fatal("hint shows part of the verifier")
	}
}

func FuzzParse(f *testing.F) {
	s, _ := NewGenerator().New()
	f.Add(s.Token)
	f.Add("dotenv_")
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Parse(in)
		if err == nil && (len(in) != Len || p.KeyID() == "") {
			t.Fatalf("accepted %q", in)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	s, _ := NewGenerator().New()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(s.Token); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMalformed(b *testing.B) {
	s, _ := NewGenerator().New()
	bad := s.Token[:Len-1] + "!"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bad); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkDigestCompare(b *testing.B) {
	s, _ := NewGenerator().New()
	d := s.Digest()
	b.ReportAllocs()
	for b.Loop() {
		if !s.Matches(d) {
			b.Fatal("mismatch")
		}
	}
}
