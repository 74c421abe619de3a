package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// A minimal HTTP/1.1 client over one keep-alive connection: requests are
// prebuilt bytes and responses are parsed just enough to find their end, so
// the generator spends far less CPU per request than net/http's client and
// the server stays the bottleneck.

// request is one prebuilt HTTP/1.1 request.
type request struct {
	name string
	raw  []byte
}

// newRequest builds a request for host. auth is a bearer token ("" for
// none); body is sent as application/json when method is not GET.
func newRequest(name, method, host, path, auth string, body []byte) request {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: loadgen\r\n", method, path, host)
	if auth != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", auth)
	}
	if method != "GET" {
		if body != nil {
			b.WriteString("Content-Type: application/json\r\n")
		}
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return request{name: name, raw: b.Bytes()}
}

// conn is one keep-alive connection.
type conn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
}

func dial(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &conn{addr: addr, c: c, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// do sends req and reads the response. The body is appended to *body when
// body is not nil, and skipped otherwise. When the server closes the
// connection (Connection: close) the next do redials.
func (c *conn) do(req request, body *[]byte) (int, error) {
	if c.c == nil {
		nc, err := dial(c.addr)
		if err != nil {
			return 0, err
		}
		*c = *nc
	}
	if _, err := c.c.Write(req.raw); err != nil {
		return 0, err
	}
	status, closeAfter, err := c.readResponse(body)
	if err != nil {
		return 0, err
	}
	if closeAfter {
		c.c.Close()
		c.c = nil
	}
	return status, nil
}

var (
	hdrContentLength    = []byte("content-length:")
	hdrTransferEncoding = []byte("transfer-encoding:")
	hdrConnection       = []byte("connection:")
)

func (c *conn) readResponse(body *[]byte) (status int, closeAfter bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(line) <= 2 {
			break // the blank line
		}
		switch {
		case hasPrefixFold(line, hdrContentLength):
			n, err := strconv.Atoi(string(bytes.TrimSpace(line[len(hdrContentLength):])))
			if err != nil {
				return 0, false, fmt.Errorf("bad Content-Length %q", line)
			}
			length = n
		case hasPrefixFold(line, hdrTransferEncoding):
			chunked = bytes.Contains(bytes.ToLower(line), []byte("chunked"))
		case hasPrefixFold(line, hdrConnection):
			closeAfter = bytes.Contains(bytes.ToLower(line), []byte("close"))
		}
	}
	switch {
	case status == 204 || status == 304 || status/100 == 1:
	case chunked:
		err = c.readChunked(body)
	case length >= 0:
		err = c.readN(length, body)
	default:
		return 0, false, errors.New("response without length: not supported")
	}
	return status, closeAfter, err
}

func (c *conn) readN(n int, body *[]byte) error {
	if body == nil {
		_, err := c.br.Discard(n)
		return err
	}
	start := len(*body)
	*body = append(*body, make([]byte, n)...)
	_, err := io.ReadFull(c.br, (*body)[start:])
	return err
}

func (c *conn) readChunked(body *[]byte) error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if n == 0 {
			// Trailers, then the blank line.
			for {
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(line) <= 2 {
					return nil
				}
			}
		}
		if err := c.readN(int(n), body); err != nil {
			return err
		}
		if _, err := c.br.Discard(2); err != nil { // CRLF
			return err
		}
	}
}

func hasPrefixFold(s, prefix []byte) bool {
	return len(s) >= len(prefix) && bytes.EqualFold(s[:len(prefix)], prefix)
}
