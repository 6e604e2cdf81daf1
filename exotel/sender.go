package exotel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/exoroster/exoroster/ratelimit"
)

// SenderOptions configure a Sender.
type SenderOptions struct {
	// URL is the resource every request's path is relative to: a base URL
	// that CheckBaseURL accepted, and the resource's path.
	URL        string
	HTTPClient *http.Client // required: one client, shared by all workers
	Pacer      Pacer        // optional; nil sends at once
	UserAgent  string       // default "exoroster"
	Logger     *slog.Logger // optional
	// Authorize sets a request's credentials. It is the only place the
	// token is revealed.
	Authorize func(*http.Request)
	// Origin says where the base URL comes from, for the fix a
	// Misconfiguration names.
	Origin Origin
}

// Origin names, for the fix a Misconfiguration gives, where a client's
// base URL is set and what the real API's is.
type Origin struct {
	Setting string // where the URL is set: "--base-url or EXOTEL_BASE_URL"
	Picker  string // what picks the host when Setting is unset ("--region"); "" when nothing does
	API     string // the real API, for a fix: "Exotel's API is https://ccm-api.exotel.com"
}

// Sender sends one API's requests: through the pacer, with the credentials
// and the user agent, noting whether each was written, and reading the
// answer's body up to a limit. It does not read what an answer says: each
// client decodes its API's own envelope. It watches every request it sends
// (see Answered and Retrying), so that a run's first request that meets a
// misconfiguration fails at once and a later outage is said aloud. It is
// safe for concurrent use.
type Sender struct {
	url       string
	resource  string // the URL's last element, "/users": what logs and errors name
	http      *http.Client
	pacer     Pacer
	userAgent string
	log       *slog.Logger
	authorize func(*http.Request)
	watch     *watch
}

// NewSender checks the options and returns a Sender.
func NewSender(opts SenderOptions) (*Sender, error) {
	if opts.HTTPClient == nil {
		return nil, errors.New("an HTTP client is required")
	}
	if opts.Authorize == nil {
		return nil, errors.New("a sender needs credentials to authorize its requests")
	}
	base, err := url.Parse(opts.URL)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("%q is not a resource URL", opts.URL)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ua := opts.UserAgent
	if ua == "" {
		ua = "exoroster"
	}
	return &Sender{
		url:       opts.URL,
		resource:  resourceName(base.Path),
		http:      opts.HTTPClient,
		pacer:     opts.Pacer,
		userAgent: ua,
		log:       log,
		authorize: opts.Authorize,
		watch:     newWatch(base, opts.Origin, log),
	}, nil
}

// maxBody bounds how much of an answer is read; a page of 50 users is a few
// tens of kilobytes.
const maxBody = 8 << 20

// Send sends one request (body, when not nil, as JSON) to the resource's
// path and returns the answer, whatever its status, with its body read
// (resp.Body is closed), or an error: a *TransportError when no answer came
// back, or the pacer's refusal marked ratelimit.NotSent.
func (s *Sender) Send(ctx context.Context, method, path, rawQuery string, body any) (resp *http.Response, raw []byte, err error) {
	var payload []byte
	if body != nil {
		if payload, err = json.Marshal(body); err != nil {
			return nil, nil, fmt.Errorf("encoding request: %w", err)
		}
	}
	done := func(*http.Response) {}
	// The limiter spaces the next request from when this one is written
	// (WroteRequest below), not only from when it lets it go.
	ctx, departure := ratelimit.WithDeparture(ctx)
	if s.pacer != nil {
		if done, err = s.pacer.Wait(ctx); err != nil {
			return nil, nil, ratelimit.NotSent(err)
		}
	}

	full := s.url + path
	if rawQuery != "" {
		full += "?" + rawQuery
	}
	// WroteRequest also reports a failed write (Err set), and may run on the
	// transport's writer goroutine after Do has returned.
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			sent.Store(true)
			departure.Left()
		}
	}}
	var reqBody io.Reader
	if len(payload) > 0 {
		reqBody = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), method, full, reqBody)
	if err != nil {
		done(nil)
		return nil, nil, fmt.Errorf("building request: %w", err)
	}
	if req.Body == nil {
		req.Body = noReplay{}
	}
	s.authorize(req)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err = s.http.Do(req)
	if err != nil {
		done(nil)
		// The *url.Error's text repeats the URL, whose query may hold the
		// emails and numbers of a filtered GET: neither is logged.
		err = stripURL(err)
		s.log.Debug("request failed", "method", method, "path", s.resource+path, "sent", sent.Load(), "err", err)
		te := &TransportError{Method: method, Path: s.resource + path, Sent: sent.Load(), Err: err}
		s.watch.failed(te)
		return nil, nil, te
	}
	s.watch.answer()
	defer resp.Body.Close()
	raw, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	done(resp)
	s.log.Debug("request", "method", method, "path", s.resource+path, "status", resp.StatusCode,
		"elapsed", time.Since(start).Round(time.Millisecond))
	if err != nil {
		// The status line arrived but the body did not: for a write, the
		// outcome is as unknown as if nothing had come back.
		return nil, nil, &TransportError{Method: method, Path: s.resource + path, Sent: true, Err: err}
	}
	return resp, raw, nil
}

// noReplay is the body of a request that has none. net/http's Transport
// sends a GET again by itself, unseen by the limiter, when a reused
// keep-alive connection dies before the answer (Request.isReplayable: a
// GET whose body is nil, http.NoBody or rewindable by GetBody). With a body
// it cannot rewind, such a failure comes back to the caller instead, whose
// retry (ratelimit.Retry) waits for the limiter: a replay 3 ms after the
// drop draws a 429 from a server that counted the lost request. On the
// HTTP/1.1 wire nothing changes: for GET and DELETE the transport reads
// the body once, finds it empty and sends no Content-Length or chunked
// encoding (transferWriter.probeRequestBody); over HTTP/2 the request ends
// with an empty DATA frame instead of on its HEADERS. A 307 or 308 to such
// a request comes back as it is rather than being followed (another
// request the limiter would not see). POST and PUT carry a JSON body with
// GetBody, which net/http never replays once written, since their methods
// are not idempotent.
type noReplay struct{}

func (noReplay) Read([]byte) (int, error) { return 0, io.EOF }
func (noReplay) Close() error             { return nil }

// Answered reports whether any request of s has had an HTTP answer.
func (s *Sender) Answered() bool { return s.watch.answered.Load() }

// Retrying returns the classify function for one ratelimit.Retry call of
// up to maxAttempts: RetryVerdict's verdict, and for a failure without an
// answer that will be tried again, a warning on the sender's log with its
// cause and "attempt n of max", once per attempt number and outage, so that
// a long outage is never silent. Use a new one for each Retry call.
func (s *Sender) Retrying(maxAttempts int) func(error) ratelimit.Verdict {
	attempt := 0
	return func(err error) ratelimit.Verdict {
		attempt++
		v := RetryVerdict(err)
		if v == ratelimit.Backoff && KindOf(err) == KindTransport {
			s.watch.retrying(err, attempt, maxAttempts)
		}
		return v
	}
}

// stripURL drops the *url.Error wrapper, whose text repeats the full URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
