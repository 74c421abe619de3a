package main

// The memory measurement: for each store size, the seed helper writes the
// keys straight into a fresh bbolt file (with their tokens in a file of its
// own), `edge serve` starts on it, a sample of the keys (all of them up to
// -rss-sample) is verified over HTTP, and the server's memory is read from
// /proc/PID/status before and after. The embedded store keeps a bounded
// cache of decoded keys, so the anonymous memory (the Go heap) must stop
// growing once the verified keys outweigh the cache; the file-backed part
// of VmRSS is bbolt's memory map of the file, pages of the page cache that
// the kernel can drop, and grows with the pages the verifications touched.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// memStatus is what /proc/PID/status says of a process's memory, in bytes.
type memStatus struct {
	rss, anon, file, hwm int64
}

// readMem reads VmRSS, RssAnon, RssFile and VmHWM of process pid.
func readMem(pid int) (memStatus, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	var m memStatus
	for _, l := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.rss = kb << 10
		case "RssAnon":
			m.anon = kb << 10
		case "RssFile":
			m.file = kb << 10
		case "VmHWM":
			m.hwm = kb << 10
		}
	}
	if m.rss == 0 {
		return m, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	return m, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

// rssRow is the outcome of one store size.
type rssRow struct {
	keys, touched int
	seed          time.Duration
	fileBytes     int64
	touchRate     float64
	start, after  memStatus
}

// runRSS measures the server's memory for each size in o.rssKeys.
func runRSS(ctx context.Context, o options, tmp string) error {
	fmt.Printf("\n## Memory of edge serve by store size (keys with %d grants; the server's default key cache)\n\n", o.rssGrants)
	var rows []rssRow
	for _, n := range o.rssKeys {
		r, err := measureRSS(ctx, o, tmp, n)
		if err != nil {
			return fmt.Errorf("memory at %d keys: %w", n, err)
		}
		fmt.Fprintf(os.Stderr, "loadgen: memory at %d keys measured\n", n)
		rows = append(rows, r)
	}
	fmt.Println("| keys | seeded in | file | verified (distinct keys) | verify/s | VmRSS at start | VmRSS after | RssAnon after | RssFile after | VmHWM |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Printf("| %d | %.1f s | %s MiB | %d | %.0f | %s MiB | %s MiB | **%s MiB** | %s MiB | %s MiB |\n",
			r.keys, r.seed.Seconds(), mib(r.fileBytes), r.touched, r.touchRate,
			mib(r.start.rss), mib(r.after.rss), mib(r.after.anon), mib(r.after.file), mib(r.after.hwm))
	}
	fmt.Println("\nRssAnon is the process's own memory (Go heap, stacks); RssFile is bbolt's memory map of the file (page cache,")
	fmt.Println("which the kernel reclaims under pressure): it grows with the pages the verifications read.")
	return nil
}

// measureRSS seeds a store of n keys, serves it, verifies a sample and
// reads the server's memory.
func measureRSS(ctx context.Context, o options, tmp string, n int) (rssRow, error) {
	row := rssRow{keys: n}
	dir := filepath.Join(tmp, fmt.Sprintf("rss-%d", n))
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	tokensPath := filepath.Join(dir, "tokens")
	t0 := time.Now()
	out, err := exec.CommandContext(ctx, o.seedBin, "--data", data, "--org", fmt.Sprintf("rss=%d", n),
		"--grants", strconv.Itoa(o.rssGrants), "--tokens", tokensPath).Output()
	if err != nil {
		return row, fmt.Errorf("seeding: %w%s", err, stderrOf(err))
	}
	row.seed = time.Since(t0)
	var orgs map[string]seeded
	if err := json.Unmarshal(out, &orgs); err != nil {
		return row, fmt.Errorf("seeding: reading its output: %w", err)
	}
	if fi, err := os.Stat(filepath.Join(data, "apikeys.db")); err == nil {
		row.fileBytes = fi.Size()
	}
	tokens, err := readSample(tokensPath, o.rssSample)
	if err != nil {
		return row, err
	}
	row.touched = len(tokens)

	srv, err := startServer(o, data)
	if err != nil {
		return row, err
	}
	defer srv.stop()
	pid := srv.cmd.Process.Pid
	if row.start, err = readMem(pid); err != nil {
		return row, err
	}
	t1 := time.Now()
	if err := verifyAll(ctx, srv.addr, tokens, o.rssConc); err != nil {
		return row, err
	}
	row.touchRate = float64(len(tokens)) / time.Since(t1).Seconds()
	row.after, err = readMem(pid)
	return row, err
}

// readSample reads the tokens file (one token a line) and returns all of
// them, or max of them drawn at random. The tokens are never printed.
func readSample(path string, max int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var all []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the tokens: %w", err)
	}
	if max > 0 && len(all) > max {
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		all = all[:max]
	}
	return all, nil
}

// verifyAll verifies every token once over conc keep-alive connections and
// fails on the first answer that is not a valid key's.
func verifyAll(ctx context.Context, addr string, tokens []string, conc int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range conc {
		wg.Go(func() {
			c, err := dial(addr)
			if err != nil {
				once.Do(func() { first = err })
				return
			}
			defer c.Close()
			var body []byte
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(tokens) {
					return
				}
				b, _ := json.Marshal(map[string]string{"token": tokens[i]})
				body = body[:0]
				status, err := c.do(newRequest("verify", "POST", addr, "/v1/verify", "", b), &body)
				if err == nil && (status != 200 || !strings.Contains(string(body), `"code":"ok"`)) {
					err = fmt.Errorf("verify: status %d: %s", status, problemOf(body))
				}
				if err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
