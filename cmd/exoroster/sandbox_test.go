package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/webrtc"
)

// TestSandboxServesWebRTC runs the sandbox for the WebRTC target, pages
// through its sample users with the webrtc client using the environment
// it printed, and stops it with an interrupt.
func TestSandboxServesWebRTC(t *testing.T) {
	urlFile := filepath.Join(t.TempDir(), "url")
	interrupt := make(chan struct{})
	var stdoutBuf, stderr bytes.Buffer
	stdout := &syncWriter{w: &stdoutBuf} // read while the sandbox writes
	printed := func() string {
		stdout.mu.Lock()
		defer stdout.mu.Unlock()
		return stdoutBuf.String()
	}
	done := make(chan ExitCode, 1)
	go func() {
		done <- run(context.Background(), []string{"sandbox", "--target", "webrtc", "--seed-users", "30",
			"--max-page-size", "25", "--limit", "none", "--latency", "0", "--jitter", "0",
			"--webrtc-token", "tok-sandbox", "--url-file", urlFile},
			Env{Stdout: stdout, Stderr: &stderr, Interrupt: interrupt})
	}()
	var base string
	deadline := time.Now().Add(30 * time.Second) // a guard against hanging only
	for base == "" {
		select {
		case code := <-done:
			t.Fatalf("sandbox ended with %d", code)
		default:
		}
		if b, err := os.ReadFile(urlFile); err == nil {
			base = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatal("the sandbox wrote no URL")
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}

	// The url file is written before the banner; take the environment
	// from the banner once it is there.
	var env map[string]string
	for env == nil || env["EXOTEL_APP_ID"] == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no export line in:\n%s", printed())
		}
		env = exportLine(printed())
		time.Sleep(5 * time.Millisecond)
	}
	if env["EXOTEL_TARGET"] != "webrtc" || env["EXOTEL_BASE_URL"] != base || env["EXOTEL_WEBRTC_TOKEN"] != "tok-sandbox" ||
		env["EXOTEL_CUSTOMER_ID"] != "sandbox" {
		t.Errorf("environment %v", env)
	}
	baseURL, err := webrtc.ResolveBaseURL(env["EXOTEL_BASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	c, err := webrtc.New(webrtc.Options{BaseURL: baseURL,
		Credentials: webrtc.CredentialsFromEnv(func(k string) string { return env[k] }),
		HTTPClient:  exotel.NewHTTPClient(1, 5*time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = webrtc.Walk(context.Background(), c.ListPage, func(p *webrtc.Page) error { n += len(p.Users); return nil })
	if err != nil || n != 30 || c.PageSize() != webrtc.FallbackPageSize {
		t.Errorf("walked %d users (page size %d): %v", n, c.PageSize(), err)
	}
	if _, err := c.CreateUser(context.Background(), webrtc.CreateUserRequest{UserID: "agent_001", Name: "Again"}); exotel.KindOf(err) != exotel.KindConflict {
		t.Errorf("a seeded user_id created again: %v", err)
	}

	close(interrupt)
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sandbox did not stop")
	}
	if !strings.Contains(printed(), "fake Exotel WebRTC app users API on "+base+" (no rate limit, 30 users)") ||
		!strings.Contains(printed(), "sandbox stopped after 4 requests") {
		t.Errorf("stdout:\n%s", printed())
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(base); err == nil {
		t.Error("the sandbox still answers after stopping")
	}
}

// exportLine reads the NAME=value pairs of the banner's export line.
func exportLine(out string) map[string]string {
	for _, line := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			continue
		}
		env := map[string]string{}
		for _, kv := range strings.Fields(rest) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		return env
	}
	return nil
}

func TestSandboxRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown target", []string{"--target", "xyz"}, `--target "xyz": use ccm or webrtc`},
		{"negative seed users", []string{"--seed-users", "-5"}, "--seed-users -5: use 0 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Stopped before it starts: a sandbox that accepted the flags
			// ends at once instead of serving.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var stdout, stderr bytes.Buffer
			code := run(ctx, append([]string{"sandbox", "--addr", "127.0.0.1:0"}, tc.args...), Env{Stdout: &stdout, Stderr: &stderr})
			if code != ExitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("exit %d: %s", code, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("a refused sandbox printed %q", stdout.String())
			}
		})
	}
}

// --require-phone makes the sandbox an account that refuses users without a
// phone (400 1402), to try import's handling of it.
func TestSandboxRequirePhone(t *testing.T) {
	f := &sandboxFlags{target: "ccm", requirePhone: true, limit: "50/min", limitMode: "bucket", burst: 1, throttleBody: "restexception",
		webrtc: exoteltest.WebRTCOptions{Token: "t", CustomerID: "c", AppID: "a"}}
	opts, err := f.options()
	if err != nil {
		t.Fatal(err)
	}
	if !opts.RequireDevice || opts.VOIP {
		t.Errorf("options = %+v, want RequireDevice without VOIP", opts)
	}
}
