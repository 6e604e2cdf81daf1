package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// update rewrites golden files: go test ./cmd/exoroster -update
var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// normalize replaces what changes between runs (durations, rates, temp
// paths, ports, ids) with stable placeholders.
func normalize(out []byte, dirs ...string) []byte {
	for _, d := range dirs {
		if d != "" {
			out = bytes.ReplaceAll(out, []byte(d), []byte("$DIR"))
		}
	}
	for _, r := range []struct{ re, with string }{
		{`\(\d+(\.\d+)?/min\)`, "(N/min)"},
		{`\b\d+(\.\d+)?(ns|µs|ms|s|m\d+(\.\d+)?s|h\d+m\d+s)\b`, "DURATION"},
		{`127\.0\.0\.1:\d+`, "127.0.0.1:PORT"},
		{`\b[0-9a-f]{32}\b`, "USERID"},
	} {
		out = regexp.MustCompile(r.re).ReplaceAll(out, []byte(r.with))
	}
	return out
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/exoroster -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./cmd/exoroster -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}
