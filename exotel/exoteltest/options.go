package exoteltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options configure a fake. The zero value is a well-behaved, unlimited
// account with credentials test-key / test-token / test-sid.
type Options struct {
	APIKey, APIToken, AccountSID string // defaults "test-key", "test-token", "test-sid"
	Seed                         int64  // seeds ids, request ids and fault draws

	// Limit applies to every request under /v2/accounts/<sid>/users, one
	// shared limit as Exotel keeps per account. The zero value is unlimited.
	Limit Limit

	// Faults: probabilities 0..1, drawn from the seeded RNG, only for
	// requests that passed the rate limit and auth.
	ServerErrorRate float64       // 500 envelope code 1004 (half of them a 502 HTML page when HTMLErrors); no effect
	HTMLErrors      bool          // see ServerErrorRate
	DropBeforeRate  float64       // close the connection without doing anything
	DropAfterRate   float64       // carry the request out, then close without answering
	Latency         time.Duration // added to every answer
	LatencyJitter   time.Duration // uniform extra 0..LatencyJitter
	SlowRate        float64       // some answers take SlowLatency more; the write still takes effect
	SlowLatency     time.Duration
	FaultMethods    []string // when non-empty, faults apply only to these methods (e.g. "POST")

	// VOIP: a POST without device_contact_uri gets a sip device
	// ("sip:<firstname-lower><device id>"); otherwise it gets no device.
	VOIP bool
	// RequireDevice: without VOIP, a POST without device_contact_uri is
	// 400 1402 "DeviceContactUri is mandatory", as the error table allows.
	RequireDevice bool
	// AllowDuplicates makes a stricter test bed than Exotel: creates never
	// draw 409 for a taken email or number, so a client that re-sends a
	// create blindly really does make the same person twice, and
	// CreatesByEmail shows it.
	AllowDuplicates bool

	// WebRTC configures the WebRTC integrations app users API, served
	// beside the CCM one under the same Limit and faults.
	WebRTC WebRTCOptions

	// Now is the clock for dates, the request log and the rate limiter;
	// default time.Now. It is called with the fake's lock held, so it must
	// not call back into the fake.
	Now func() time.Time

	// ListFault makes the bulk GET misbehave; see SetListFault.
	ListFault ListFault

	// OnRequest, when set, is called at the start of every request, before
	// the fake looks at it and without its lock held, so it may call the
	// fake's methods (e.g. Seed a user in the middle of an export). The
	// request body has been read already and is replayed to the hook.
	OnRequest func(r *http.Request)
}

// LimitMode picks the rate-limiting algorithm.
type LimitMode int

const (
	// TokenBucket holds Burst tokens and refills Rate per Window.
	TokenBucket LimitMode = iota
	// FixedWindow allows Rate requests per Window; windows are aligned to
	// the Unix epoch (a 1-minute window resets on the clock's minute).
	FixedWindow
)

// ThrottleBody is the shape of a 429's body.
type ThrottleBody int

const (
	// ThrottleRestException is the body Exotel's platform sends:
	// {"RestException":{"Status":429,"Message":...,"Code":"RATE_LIMIT_EXCEEDED"}}.
	ThrottleRestException ThrottleBody = iota
	// ThrottleEnvelope is a CCM envelope with error_data {code:"NA",
	// message:"Too many requests"}, as the CCM error table lists.
	ThrottleEnvelope
	// ThrottleHTML is a proxy's text/html page.
	ThrottleHTML
)

// Limit configures rate limiting. Rate <= 0 means unlimited.
type Limit struct {
	Rate   float64       // requests per Window; FixedWindow allows floor(Rate), at least 1
	Window time.Duration // default time.Minute
	Burst  int           // token-bucket capacity; default 1; FixedWindow ignores it
	Mode   LimitMode

	// Headers sends X-RateLimit-Limit, -Remaining (left after this request)
	// and -Reset (epoch seconds, rounded up: when the window resets, or for
	// TokenBucket when a token is next available) on every limited answer,
	// 429s included.
	Headers bool
	// RetryAfter sends Retry-After (whole seconds, rounded up, at least 1)
	// on 429s.
	RetryAfter bool
	Body       ThrottleBody
}

// Faults are the fault knobs of Options, for SetFaults.
type Faults struct {
	ServerErrorRate float64
	HTMLErrors      bool
	DropBeforeRate  float64
	DropAfterRate   float64
	Latency         time.Duration
	LatencyJitter   time.Duration
	SlowRate        float64
	SlowLatency     time.Duration
	FaultMethods    []string
}

func (o Options) faults() Faults {
	return Faults{
		ServerErrorRate: o.ServerErrorRate,
		HTMLErrors:      o.HTMLErrors,
		DropBeforeRate:  o.DropBeforeRate,
		DropAfterRate:   o.DropAfterRate,
		Latency:         o.Latency,
		LatencyJitter:   o.LatencyJitter,
		SlowRate:        o.SlowRate,
		SlowLatency:     o.SlowLatency,
		FaultMethods:    o.FaultMethods,
	}
}

// check panics on knobs that cannot mean anything: a fake set up wrongly
// should fail loudly at construction, as httptest does.
func (f Faults) check() Faults {
	for _, k := range []struct {
		name string
		p    float64
	}{
		{"ServerErrorRate", f.ServerErrorRate}, {"DropBeforeRate", f.DropBeforeRate},
		{"DropAfterRate", f.DropAfterRate}, {"SlowRate", f.SlowRate},
	} {
		if !(k.p >= 0 && k.p <= 1) {
			panic(fmt.Sprintf("exoteltest: %s %v is not a probability in 0..1", k.name, k.p))
		}
	}
	if f.Latency < 0 || f.LatencyJitter < 0 || f.SlowLatency < 0 {
		panic("exoteltest: negative latency")
	}
	methods := make([]string, len(f.FaultMethods))
	for i, m := range f.FaultMethods {
		methods[i] = strings.ToUpper(strings.TrimSpace(m))
	}
	f.FaultMethods = methods
	return f
}

// appliesTo reports whether faults may hit a request with this method.
func (f Faults) appliesTo(method string) bool {
	if len(f.FaultMethods) == 0 {
		return true
	}
	for _, m := range f.FaultMethods {
		if m == method {
			return true
		}
	}
	return false
}

func (l Limit) normalized() Limit {
	if l.Rate < 0 || l.Rate != l.Rate || l.Burst < 0 || l.Window < 0 {
		panic(fmt.Sprintf("exoteltest: invalid limit %+v", l))
	}
	if l.Window == 0 {
		l.Window = time.Minute
	}
	if l.Burst == 0 {
		l.Burst = 1
	}
	return l
}

// SeedUser is a user that exists before the test starts. Seeding sends no
// request and counts no create.
type SeedUser struct {
	ID            string // default: a fresh 32-hex id
	FirstName     string
	LastName      string
	Email         string
	Phone         string // shorthand for a first tel device with this contact_uri
	Devices       []SeedDevice
	Role          string // default "user"
	EmailVerified bool
	LastLogin     time.Time // zero: never logged in
	ActiveCall    string    // a CallSid, or "" for none
	DateCreated   time.Time // zero: now
	// Raw replaces keys of the user's data block with these JSON values
	// in every answer that carries the user, whatever fields= asked
	// for: how a test serves a shape the documents do not give (an
	// active_call object, a last_login number). Users and User do not
	// show them.
	Raw map[string]json.RawMessage
}

// SeedDevice is a device of a SeedUser.
type SeedDevice struct {
	Name       string // default "<First>'s device"
	ContactURI string
	Type       string // default "sip" for a sip: URI, else "tel"
	Verified   bool
	Available  *bool  // only meaningful on a verified device
	Status     string // "busy", "free" or "" (null)
}

// Request is one entry of the request log, in the order the fake decided
// requests (which is the order their effects happened).
type Request struct {
	Method    string
	Path      string
	RawQuery  string
	Query     url.Values
	Body      []byte
	Status    int    // status sent; 0 when no answer was sent (Dropped != "")
	Decided   int    // status the fake decided on, even if never sent; 0 for a drop before
	Code      string // error_data code of a failure ("1022", "NA"), "" on success
	RequestID string // request_id of the answer, "" when none was built
	Throttled bool
	Fault     string    // "", "server_error", "html_error", "drop_before", "drop_after", "slow"
	Dropped   string    // "before", "after" (effect happened), "aborted" (client left or fake closed during latency), ""
	Time      time.Time // by Options.Now, when the fake decided
}
