package exotel

import (
	"errors"
	"fmt"
	"time"

	"github.com/exoroster/exoroster/ratelimit"
)

// Kind classifies a failure so callers can decide what to do without
// reading messages.
type Kind int

const (
	KindUnknown   Kind = iota
	KindInvalid        // 400: the request was refused as written; retrying will not help
	KindAuth           // 401, 403: credentials, KYC, trial account; stop the whole run
	KindNotFound       // 404
	KindConflict       // 409: email or device already exists
	KindThrottled      // 429
	KindServer         // 5xx or an unreadable answer
	KindTransport      // no HTTP answer at all: timeout, refused, dropped connection
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindAuth:
		return "auth"
	case KindNotFound:
		return "not_found"
	case KindConflict:
		return "conflict"
	case KindThrottled:
		return "throttled"
	case KindServer:
		return "server"
	case KindTransport:
		return "transport"
	}
	return "unknown"
}

// APIError is an answer from the API that was not a success.
type APIError struct {
	Kind       Kind
	HTTPStatus int
	Code       string // error_data.code, e.g. "1022"; empty when the body had none
	Message    string // error_data.message, or a description of the body
	RequestID  string
	// RetryAfter is the server's Retry-After, zero when it sent none.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "no message"
	}
	if e.Code != "" {
		return fmt.Sprintf("HTTP %d, code %s: %s", e.HTTPStatus, e.Code, msg)
	}
	return fmt.Sprintf("HTTP %d: %s", e.HTTPStatus, msg)
}

// TransportError is a request that got no HTTP answer. Sent tells whether
// the request was fully written before the failure: a POST that was sent may
// have been carried out even though no answer came back.
type TransportError struct {
	Method string
	Path   string // the resource and the request's path: /users, /users/ID
	Sent   bool
	Err    error
	// Misconfiguration is set when no request of the client had been
	// answered yet and the failure is one that waiting cannot fix; see
	// IsMisconfiguration.
	Misconfiguration *Misconfiguration
}

func (e *TransportError) Error() string {
	state := "before the request was sent"
	if e.Sent {
		state = "after the request was sent"
	}
	return fmt.Sprintf("%s %s: no answer (%s): %v", e.Method, e.Path, state, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, KindTransport for a *TransportError and
// KindUnknown for anything else.
func KindOf(err error) Kind {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Kind
	}
	var te *TransportError
	if errors.As(err, &te) {
		return KindTransport
	}
	return KindUnknown
}

// IsAmbiguous reports whether err leaves it unknown if a write took effect:
// the request went out but no answer came back.
func IsAmbiguous(err error) bool {
	var te *TransportError
	return errors.As(err, &te) && te.Sent
}

// MayHaveApplied reports whether a write that failed with err may still
// have been carried out: the server answered 5xx (or a success it could not
// account for), or the request went out and no answer came back. Create,
// delete and update all decide with it whether a later answer must be
// checked before the write is called failed or sent again.
func MayHaveApplied(err error) bool {
	return KindOf(err) == KindServer || IsAmbiguous(err)
}

// kindForStatus maps an HTTP status to a Kind.
func kindForStatus(status int) Kind {
	switch {
	case status == 401 || status == 403:
		return KindAuth
	case status == 404:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status == 429:
		return KindThrottled
	case status >= 500:
		return KindServer
	case status >= 400:
		return KindInvalid
	}
	return KindUnknown
}

// RetryVerdict classifies err for a request that is safe to repeat (a GET,
// or a DELETE whose repeat answers 404): a 429 is retried as soon as the
// shared limiter allows, a 5xx or a lost connection after a backoff, and
// anything else is final, a misconfiguration included (IsMisconfiguration).
func RetryVerdict(err error) ratelimit.Verdict {
	if IsMisconfiguration(err) {
		return ratelimit.Stop
	}
	switch KindOf(err) {
	case KindThrottled:
		return ratelimit.Again
	case KindServer, KindTransport:
		return ratelimit.Backoff
	}
	return ratelimit.Stop
}

// StoppedBeforeDone reports whether a write's final err is the run
// stopping rather than the API's last word: the stopped limiter kept the
// request back (ratelimit.WasNotSent), or the run stopped (stopping) between
// attempts of a request that would have been tried again. Its row is
// skipped, not failed: a rerun sends it.
func StoppedBeforeDone(err error, stopping bool) bool {
	return ratelimit.WasNotSent(err) || (stopping && RetryVerdict(err) != ratelimit.Stop)
}

// AsAPIError returns the *APIError in err's chain, or nil.
func AsAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// ExplainAuth says in one sentence why the API refused a run's requests
// (a KindAuth error) and what to check.
func ExplainAuth(err error) error {
	if ae := AsAPIError(err); ae != nil && ae.HTTPStatus == 401 {
		return fmt.Errorf("Exotel refused the credentials (HTTP 401: %s): check EXOTEL_API_KEY and EXOTEL_API_TOKEN", ae.Message)
	}
	return fmt.Errorf("Exotel refused the request (%v): check the account SID, its KYC and that it is not a trial account", err)
}
