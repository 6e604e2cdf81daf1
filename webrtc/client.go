// Package webrtc is exoroster's second target: a typed client for Exotel's
// WebRTC integrations app users API (shared/api/webrtc-integrations-users-api.txt),
// its export record, and the reading of its roster rows.
//
// The client decodes the API's {success, data} envelope; it sends through
// the CCM client's exotel.Sender (the same exotel.Pacer, the same watch for
// a misconfigured base URL) and reports failures with the CCM client's error
// kinds (*exotel.APIError, *exotel.TransportError), so the shared limiter,
// exotel.RetryVerdict and exotel.Classifier work on it unchanged. Where the document is silent it decides as a careful
// client would: error bodies are never required to parse, a 400 that says the
// user_id is taken is KindConflict, the page size starts at 50 and falls back
// to 20 on a 400.
package webrtc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
)

// DefaultBaseURL is the API's scheme and host; the client appends
// /v2/integrations/<customer_id>/apps/<app_id>/users.
const DefaultBaseURL = "https://integrationscore.mum1.exotel.com"

// Environment variables the credentials come from.
const (
	EnvToken      = "EXOTEL_WEBRTC_TOKEN"
	EnvCustomerID = "EXOTEL_CUSTOMER_ID"
	EnvAppID      = "EXOTEL_APP_ID"
)

// Credentials identify one app of one customer. The token is an
// exotel.Secret: it prints as REDACTED everywhere.
type Credentials struct {
	Token      exotel.Secret
	CustomerID string
	AppID      string
}

// CredentialsFromEnv reads EXOTEL_WEBRTC_TOKEN, EXOTEL_CUSTOMER_ID and
// EXOTEL_APP_ID, trimmed. Flags may then override the two ids.
func CredentialsFromEnv(getenv func(string) string) Credentials {
	return Credentials{
		Token:      exotel.NewSecret(strings.TrimSpace(getenv(EnvToken))),
		CustomerID: strings.TrimSpace(getenv(EnvCustomerID)),
		AppID:      strings.TrimSpace(getenv(EnvAppID)),
	}
}

// CheckCredentials names the first missing credential.
func CheckCredentials(c Credentials) error {
	switch {
	case c.Token.Empty():
		return errors.New(EnvToken + " is not set")
	case c.CustomerID == "":
		return errors.New(EnvCustomerID + " (or --customer-id) is not set")
	case c.AppID == "":
		return errors.New(EnvAppID + " (or --app-id) is not set")
	}
	return nil
}

// ResolveBaseURL is override (EXOTEL_BASE_URL or --base-url) checked by the
// CCM client's rule (https anywhere, http only on loopback, scheme and host
// only), or DefaultBaseURL when override is empty.
func ResolveBaseURL(override string) (string, error) {
	if strings.TrimSpace(override) == "" {
		return DefaultBaseURL, nil
	}
	return exotel.CheckBaseURL(override)
}

// Options configure a Client.
type Options struct {
	BaseURL     string // scheme and host; empty means DefaultBaseURL
	Credentials Credentials
	HTTPClient  *http.Client // required: the run's one shared client
	Pacer       exotel.Pacer // optional; nil sends at once
	UserAgent   string
	Logger      *slog.Logger // optional
}

// Page sizes of ListPage. The document gives 20 as the default and no
// maximum, so ListPage asks for 50 (the CCM API's maximum) and drops to 20
// for good after a 400.
const (
	PreferredPageSize = 50
	FallbackPageSize  = 20
)

// Client talks to one app's /users resource. It is safe for concurrent use.
type Client struct {
	usersURL string
	send     *exotel.Sender
	log      *slog.Logger
	pageSize atomic.Int32
}

// New checks the options and returns a Client.
func New(opts Options) (*Client, error) {
	if err := CheckCredentials(opts.Credentials); err != nil {
		return nil, err
	}
	base, err := ResolveBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	usersURL := base + "/v2/integrations/" + url.PathEscape(opts.Credentials.CustomerID) +
		"/apps/" + url.PathEscape(opts.Credentials.AppID) + "/users"
	token := opts.Credentials.Token
	send, err := exotel.NewSender(exotel.SenderOptions{
		URL:        usersURL,
		HTTPClient: opts.HTTPClient,
		Pacer:      opts.Pacer,
		UserAgent:  opts.UserAgent,
		Logger:     log,
		Authorize:  func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token.Reveal()) },
		Origin: exotel.Origin{
			Setting: "--base-url or EXOTEL_BASE_URL",
			API:     "the WebRTC API is " + DefaultBaseURL,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	c := &Client{usersURL: usersURL, send: send, log: log}
	c.pageSize.Store(PreferredPageSize)
	return c, nil
}

// Answered reports whether any request of c has had an HTTP answer: until
// one has, a refused connection or a failed TLS handshake is a
// misconfiguration (exotel.IsMisconfiguration) that stops the run.
func (c *Client) Answered() bool { return c.send.Answered() }

// Retrying returns the classify function for one ratelimit.Retry call of
// up to maxAttempts against c: exotel.RetryVerdict's verdict, and a line on
// c's log for each retry of a request that got no answer (see
// exotel.Sender.Retrying). Use a new one for each Retry call.
func (c *Client) Retrying(maxAttempts int) func(error) ratelimit.Verdict {
	return c.send.Retrying(maxAttempts)
}

// CreateUser maps a new user into the app. 200 and 201 are both success.
// A duplicate user_id is an *exotel.APIError of KindConflict when the
// answer says so, else KindInvalid like any other 400: settle either with
// GetUser. When the answer carries no user, the one sent is returned.
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (*User, error) {
	env, err := c.do(ctx, http.MethodPost, "", "", req)
	if err != nil {
		return nil, err
	}
	u, err := decodeUser(env)
	if err != nil || u != nil {
		return u, err
	}
	return &User{UserID: req.UserID, Name: req.Name, Phone: req.Phone, SIPEnabled: req.SIPEnabled}, nil
}

// GetUser fetches one user, with sip_credentials, device_status and dates.
// An unknown user_id is KindNotFound.
func (c *Client) GetUser(ctx context.Context, userID string) (*User, error) {
	env, err := c.do(ctx, http.MethodGet, "/"+url.PathEscape(userID), "", nil)
	if err != nil {
		return nil, err
	}
	u, err := decodeUser(env)
	if err == nil && u == nil {
		err = &exotel.APIError{Kind: exotel.KindServer, HTTPStatus: env.status,
			Message: "the answer carried no user"}
	}
	return u, err
}

// DeleteUser removes a user from the app. An unknown user_id is
// KindNotFound: on a rerun, already gone.
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/"+url.PathEscape(userID), "", nil)
	return err
}

// ListUsers fetches one page: limit users (0: the API's default) from
// offset. See ListPage for the page size this client has settled on.
func (c *Client) ListUsers(ctx context.Context, limit, offset int) (*Page, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	q.Set("offset", strconv.Itoa(max(offset, 0)))
	env, err := c.do(ctx, http.MethodGet, "", q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	page, err := decodePage(env.Data, limit, offset)
	if err != nil {
		return nil, &exotel.APIError{Kind: exotel.KindServer, HTTPStatus: env.status, Message: err.Error()}
	}
	return page, nil
}

// PageSize is the page size ListPage asks for: PreferredPageSize until the
// API refused it, FallbackPageSize after.
func (c *Client) PageSize() int { return int(c.pageSize.Load()) }

// ListPage fetches the page at offset in the page size this client has
// settled on. The first 400 to a page larger than FallbackPageSize is taken
// to refuse the size: the client says so once in the log, keeps to the
// smaller size from then on, and asks again at once (a second request).
func (c *Client) ListPage(ctx context.Context, offset int) (*Page, error) {
	size := int32(c.PageSize())
	p, err := c.ListUsers(ctx, int(size), offset)
	if err == nil || size <= FallbackPageSize || exotel.KindOf(err) != exotel.KindInvalid {
		return p, err
	}
	if c.pageSize.CompareAndSwap(size, FallbackPageSize) {
		c.log.Warn("the WebRTC API refused a page size; asking for smaller pages from now on",
			"refused", size, "page_size", FallbackPageSize, "answer", err.Error())
	}
	return c.ListUsers(ctx, FallbackPageSize, offset)
}

// decodeUser reads the data of a one-user answer; nil when there is none.
func decodeUser(env *answer) (*User, error) {
	data := bytes.TrimSpace(env.Data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, nil
	}
	var u User
	if err := json.Unmarshal(data, &u); err != nil {
		return nil, &exotel.APIError{Kind: exotel.KindServer, HTTPStatus: env.status,
			Message: "the answer's data is not a user: " + err.Error()}
	}
	return &u, nil
}

// decodePage reads the list's data: {users, total, limit, offset}. A users
// array that is missing or null is an empty page; a limit or offset the
// answer does not give is the one asked for.
func decodePage(data json.RawMessage, limit, offset int) (*Page, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil, errors.New("the list answer carried no data")
	}
	var w wireList
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, errors.New("the list answer's data is not an object")
	}
	var items []json.RawMessage
	if raw := bytes.TrimSpace(w.Users); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errors.New("the list answer's users is not an array")
		}
	}
	p := &Page{Count: len(items), Total: w.Total.n, HasTotal: w.Total.ok,
		Limit: limit, Offset: offset, Asked: limit}
	if w.Limit.ok {
		p.Limit = w.Limit.n
	}
	if w.Offset.ok {
		p.Offset = w.Offset.n
	}
	p.Users = make([]User, 0, len(items))
	for _, it := range items {
		var u User
		if json.Unmarshal(it, &u) != nil || !bytes.HasPrefix(bytes.TrimSpace(it), []byte("{")) {
			p.Unreadable++
			continue
		}
		p.Users = append(p.Users, u)
	}
	return p, nil
}

// answer is a decoded success.
type answer struct {
	envelope
	status int
}

// do sends one request and returns the decoded envelope of a successful
// answer, or an *exotel.APIError for an answer that is not one, or an
// *exotel.TransportError when no answer came.
func (c *Client) do(ctx context.Context, method, path, rawQuery string, body any) (*answer, error) {
	resp, raw, err := c.send.Send(ctx, method, path, rawQuery, body)
	if err != nil {
		return nil, err
	}
	return decodeAnswer(resp.StatusCode, resp.Header, raw)
}

// decodeAnswer reads an answer of any shape. Only a 2xx body must be JSON;
// an error body lends its message when it has one. A 429's body is not
// read at all: Exotel's RestException, an envelope and a proxy's HTML are
// all the same throttle, and its wait is in Retry-After.
func decodeAnswer(status int, header http.Header, raw []byte) (*answer, error) {
	if status == http.StatusTooManyRequests {
		e := &exotel.APIError{Kind: exotel.KindThrottled, HTTPStatus: status, Message: "too many requests"}
		e.RetryAfter, _ = ratelimit.ParseRetryAfter(header.Get("Retry-After"), time.Now())
		return nil, e
	}
	var env envelope
	jsonErr := json.Unmarshal(raw, &env)
	if jsonErr == nil && !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		env, jsonErr = envelope{}, errors.New("not an object")
	}
	if status < 200 || status > 299 {
		msg := errorMessage(raw, env, jsonErr)
		e := &exotel.APIError{Kind: kindFor(status, msg), HTTPStatus: status, Message: msg}
		if e.Message == "" {
			e.Message = describeBody(status, header, raw, jsonErr)
		}
		return nil, e
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return &answer{status: status}, nil // e.g. a DELETE answered 200 or 204 with no body
	}
	if jsonErr != nil {
		return nil, &exotel.APIError{Kind: exotel.KindServer, HTTPStatus: status,
			Message: "unreadable answer: " + describeBody(status, header, raw, jsonErr)}
	}
	if env.failed() {
		// A success status whose body says it failed: what failed is
		// unknown, so callers settle it as they would a 5xx, unless the
		// message names a duplicate.
		msg := firstNonEmpty(string(env.Message), "the answer says success: false")
		kind := exotel.KindServer
		if isDuplicate(msg) {
			kind = exotel.KindConflict
		}
		return nil, &exotel.APIError{Kind: kind, HTTPStatus: status, Message: msg}
	}
	return &answer{envelope: env, status: status}, nil
}

// kindFor maps an error answer to a Kind. The document answers a duplicate
// user_id with 400, as it does bad input; only the message tells them apart.
func kindFor(status int, msg string) exotel.Kind {
	switch {
	case status == 401 || status == 403:
		return exotel.KindAuth
	case status == 404:
		return exotel.KindNotFound
	case status == 409:
		return exotel.KindConflict
	case status == 400 && isDuplicate(msg):
		return exotel.KindConflict
	case status >= 400 && status < 500:
		return exotel.KindInvalid
	}
	return exotel.KindServer
}

// isDuplicate reports whether an error message says the user already
// exists.
func isDuplicate(msg string) bool {
	m := strings.ToLower(msg)
	for _, w := range []string{"duplicate", "exists", "already"} {
		if strings.Contains(m, w) {
			return true
		}
	}
	return false
}

// errorMessage finds a message in an error body: the envelope's message, an
// "error" string, or a short plain-text body. "" when there is none.
func errorMessage(raw []byte, env envelope, jsonErr error) string {
	if jsonErr == nil {
		if m := strings.TrimSpace(string(env.Message)); m != "" {
			return m
		}
		var other struct {
			Error flexString `json:"error"`
		}
		if json.Unmarshal(raw, &other) == nil && other.Error != "" {
			return string(other.Error)
		}
		return ""
	}
	text := strings.TrimSpace(string(raw))
	if text == "" || len(text) > 200 || !utf8.ValidString(text) || strings.ContainsAny(text, "<>\r\n") {
		return "" // a proxy's HTML page, or a body too long for a results file
	}
	return text
}

// describeBody says what an answer without a message looked like.
func describeBody(status int, header http.Header, raw []byte, jsonErr error) string {
	ct := header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	text := http.StatusText(status)
	if text == "" {
		text = "HTTP " + strconv.Itoa(status)
	}
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
		return text + " (empty body)"
	case jsonErr != nil && ct != "":
		return fmt.Sprintf("%s (%s body)", text, ct)
	case jsonErr != nil:
		return text + " (body is not JSON)"
	}
	return text
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// ExplainAuth says in one sentence why the API refused the run (a KindAuth
// error) and what to check.
func ExplainAuth(err error) error {
	return fmt.Errorf("the WebRTC API refused the token (%v): check %s, %s and %s", err, EnvToken, EnvCustomerID, EnvAppID)
}
