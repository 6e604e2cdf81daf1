package exotel

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
	"time"

	"github.com/exoroster/exoroster/ratelimit"
)

// Pacer decides when a request may go out. Wait blocks until then and returns
// a function the client calls with the answer (nil when none came), so the
// pacer can read rate-limit headers and 429s. ratelimit.Limiter implements it.
type Pacer interface {
	Wait(ctx context.Context) (done func(*http.Response), err error)
}

// Options configure a Client.
type Options struct {
	BaseURL     string // scheme and host, e.g. https://ccm-api.exotel.com
	Credentials Credentials
	HTTPClient  *http.Client // required: one client, shared by all workers
	Pacer       Pacer        // optional; nil sends at once
	UserAgent   string
	Logger      *slog.Logger // optional
}

// Client talks to one account's /v2/accounts/<sid>/users resource.
type Client struct {
	usersURL string
	send     *Sender
	odd      *oddLog
}

// New checks the options and returns a Client.
func New(opts Options) (*Client, error) {
	if err := CheckCredentials(opts.Credentials); err != nil {
		return nil, err
	}
	base, err := CheckBaseURL(opts.BaseURL)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	usersURL := base + "/v2/accounts/" + url.PathEscape(opts.Credentials.AccountSID) + "/users"
	creds := opts.Credentials
	send, err := NewSender(SenderOptions{
		URL:        usersURL,
		HTTPClient: opts.HTTPClient,
		Pacer:      opts.Pacer,
		UserAgent:  opts.UserAgent,
		Logger:     log,
		Authorize:  func(r *http.Request) { r.SetBasicAuth(creds.APIKey, creds.APIToken.Reveal()) },
		Origin: Origin{
			Setting: "--base-url or EXOTEL_BASE_URL",
			Picker:  "--region",
			API:     "Exotel's API is https://ccm-api.exotel.com or https://ccm-api.in.exotel.com",
		},
	})
	if err != nil {
		return nil, fmt.Errorf("exotel: %w", err)
	}
	return &Client{usersURL: usersURL, send: send, odd: newOddLog(log)}, nil
}

// Answered reports whether any request of c has had an HTTP answer.
func (c *Client) Answered() bool { return c.send.Answered() }

// Retrying returns the classify function for one ratelimit.Retry call of
// up to maxAttempts against c: see Sender.Retrying. Use a new one for each
// Retry call.
func (c *Client) Retrying(maxAttempts int) func(error) ratelimit.Verdict {
	return c.send.Retrying(maxAttempts)
}

// CheckCredentials names the first missing credential.
func CheckCredentials(c Credentials) error {
	switch {
	case c.APIKey == "":
		return errors.New("EXOTEL_API_KEY is not set")
	case c.APIToken.Empty():
		return errors.New("EXOTEL_API_TOKEN is not set")
	case c.AccountSID == "":
		return errors.New("EXOTEL_ACCOUNT_SID is not set")
	}
	return nil
}

// CreateUser creates a user. On success the returned user carries its id and
// devices.
func (c *Client) CreateUser(ctx context.Context, req CreateUserRequest) (*User, error) {
	var u User
	if err := c.single(ctx, http.MethodPost, "", "", req, &u); err != nil {
		return nil, err
	}
	c.odd.note(&u)
	if u.ID == "" {
		// A success without the new user's id leaves its outcome as
		// unknown as a lost answer; callers look it up.
		return nil, &APIError{Kind: KindServer, HTTPStatus: http.StatusOK,
			Message: "the answer to a create carried no user id"}
	}
	return &u, nil
}

// GetUser fetches one user. fields may ask for "devices" and the like.
func (c *Client) GetUser(ctx context.Context, id string, fields ...string) (*User, error) {
	query := ""
	if len(fields) > 0 {
		query = "fields=" + strings.Join(fields, ",") // literal commas, as the bulk GET
	}
	var u User
	if err := c.single(ctx, http.MethodGet, "/"+url.PathEscape(id), query, nil, &u); err != nil {
		return nil, err
	}
	c.odd.note(&u)
	return &u, nil
}

// UpdateUser changes a user's names, or its email while none is set.
func (c *Client) UpdateUser(ctx context.Context, id string, req UpdateUserRequest) (*User, error) {
	var u User
	if err := c.single(ctx, http.MethodPut, "/"+url.PathEscape(id), "", req, &u); err != nil {
		return nil, err
	}
	c.odd.note(&u)
	return &u, nil
}

// UpdateDevice changes one of a user's devices.
func (c *Client) UpdateDevice(ctx context.Context, userID string, deviceID int64, req UpdateDeviceRequest) (*Device, error) {
	var d Device
	path := "/" + url.PathEscape(userID) + "/devices/" + strconv.FormatInt(deviceID, 10)
	if err := c.single(ctx, http.MethodPut, path, "", req, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeleteUser deletes a user. It cannot be undone.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	return c.single(ctx, http.MethodDelete, "/"+url.PathEscape(id), "", nil, nil)
}

// ListUsers fetches one page of the bulk GET.
func (c *Client) ListUsers(ctx context.Context, opts ListOptions) (*Page, error) {
	if opts.Limit > MaxPageSize {
		return nil, fmt.Errorf("exotel: page limit %d is above the maximum of %d", opts.Limit, MaxPageSize)
	}
	env, status, err := c.do(ctx, http.MethodGet, "", listQuery(opts), nil)
	if err != nil {
		return nil, err
	}
	page := &Page{Offset: opts.Offset, Limit: opts.Limit}
	if env.Metadata != nil {
		page.Total, page.Count = env.Metadata.Total, env.Metadata.Count
		page.Offset, page.Limit = env.Metadata.Offset, env.Metadata.Limit
	}
	raw := bytes.TrimSpace(env.Response)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return page, nil
	}
	var recs []Record
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, &APIError{Kind: KindServer, HTTPStatus: status, RequestID: env.RequestID,
			Message: "bulk GET answer's response is not an array: " + err.Error()}
	}
	page.Users = make([]User, 0, len(recs))
	for _, r := range recs {
		if apiErr := recordError(r, status, env.RequestID); apiErr != nil {
			page.Errors = append(page.Errors, apiErr)
			continue
		}
		var u User
		if err := json.Unmarshal(r.Data, &u); err != nil {
			page.Errors = append(page.Errors, &APIError{Kind: KindServer, HTTPStatus: status,
				RequestID: env.RequestID, Message: "unreadable user record: " + err.Error()})
			continue
		}
		c.odd.note(&u)
		page.Users = append(page.Users, u)
	}
	if env.Metadata == nil {
		page.Count = len(page.Users)
	}
	return page, nil
}

// listQuery writes the bulk GET's query. Filter values are escaped one by one
// and joined with literal commas, as the document shows (+ becomes %2B).
func listQuery(o ListOptions) string {
	var parts []string
	if len(o.Fields) > 0 {
		parts = append(parts, "fields="+strings.Join(o.Fields, ","))
	}
	if len(o.Emails) > 0 {
		parts = append(parts, "email="+escapeList(o.Emails))
	}
	if len(o.ContactURIs) > 0 {
		parts = append(parts, "devices.contact_uri="+escapeList(o.ContactURIs))
	}
	parts = append(parts, "offset="+strconv.Itoa(o.Offset))
	if o.Limit > 0 {
		parts = append(parts, "limit="+strconv.Itoa(o.Limit))
	}
	return strings.Join(parts, "&")
}

func escapeList(vals []string) string {
	esc := make([]string, len(vals))
	for i, v := range vals {
		esc[i] = url.QueryEscape(v)
	}
	return strings.Join(esc, ",")
}

// single performs a call whose response is one record and decodes its data
// into out (when out is not nil).
func (c *Client) single(ctx context.Context, method, path, rawQuery string, body, out any) error {
	env, status, err := c.do(ctx, method, path, rawQuery, body)
	if err != nil {
		return err
	}
	raw := bytes.TrimSpace(env.Response)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var rec Record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return &APIError{Kind: KindServer, HTTPStatus: status, RequestID: env.RequestID,
			Message: "answer's response is not an object: " + err.Error()}
	}
	if apiErr := recordError(rec, status, env.RequestID); apiErr != nil {
		return apiErr
	}
	data := bytes.TrimSpace(rec.Data)
	if out == nil || len(data) == 0 || bytes.Equal(data, []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &APIError{Kind: KindServer, HTTPStatus: status, RequestID: env.RequestID,
			Message: "unreadable data in answer: " + err.Error()}
	}
	return nil
}

// recordError turns a record that is not a success into an *APIError.
func recordError(r Record, httpStatus int, requestID string) *APIError {
	failed := r.ErrorData != nil || (r.Code != 0 && (r.Code < 200 || r.Code > 299)) ||
		(r.Status != "" && !strings.EqualFold(r.Status, "success"))
	if !failed {
		return nil
	}
	status := httpStatus
	if r.Code >= 400 {
		status = r.Code
	}
	e := &APIError{Kind: kindForStatus(status), HTTPStatus: status, RequestID: requestID}
	if e.Kind == KindUnknown {
		e.Kind = KindServer
	}
	if r.ErrorData != nil {
		e.Code = string(r.ErrorData.Code)
		e.Message = firstNonEmpty(r.ErrorData.Message, r.ErrorData.Description)
	}
	return e
}

// do sends one request and returns the decoded envelope of a 2xx answer, or
// an error: *APIError for an HTTP error answer, *TransportError when no
// answer came back.
func (c *Client) do(ctx context.Context, method, path, rawQuery string, body any) (*Envelope, int, error) {
	resp, raw, err := c.send.Send(ctx, method, path, rawQuery, body)
	if err != nil {
		return nil, 0, err
	}
	return decodeAnswer(resp, raw)
}

// decodeAnswer reads an answer of any shape. A 429 is never required to
// parse: Exotel's RestException, the CCM envelope and a proxy's HTML are
// all throttles.
func decodeAnswer(resp *http.Response, raw []byte) (*Envelope, int, error) {
	status := resp.StatusCode
	var env Envelope
	jsonErr := json.Unmarshal(raw, &env)
	if status == http.StatusTooManyRequests {
		e := &APIError{Kind: KindThrottled, HTTPStatus: status, Message: throttleMessage(raw, &env, jsonErr)}
		e.RequestID = env.RequestID
		e.RetryAfter, _ = ratelimit.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return nil, status, e
	}
	if status < 200 || status > 299 {
		e := &APIError{Kind: kindForStatus(status), HTTPStatus: status, RequestID: env.RequestID}
		if e.Kind == KindUnknown {
			e.Kind = KindServer
		}
		var rec Record
		if jsonErr == nil && json.Unmarshal(env.Response, &rec) == nil && rec.ErrorData != nil {
			e.Code = string(rec.ErrorData.Code)
			e.Message = firstNonEmpty(rec.ErrorData.Message, rec.ErrorData.Description)
		}
		if e.Message == "" {
			e.Message = describeBody(resp, raw, jsonErr)
		}
		return nil, status, e
	}
	if jsonErr != nil {
		return nil, status, &APIError{Kind: KindServer, HTTPStatus: status,
			Message: "unreadable answer: " + describeBody(resp, raw, jsonErr)}
	}
	return &env, status, nil
}

func throttleMessage(raw []byte, env *Envelope, jsonErr error) string {
	if jsonErr == nil {
		var rec Record
		if json.Unmarshal(env.Response, &rec) == nil && rec.ErrorData != nil {
			if m := firstNonEmpty(rec.ErrorData.Message, rec.ErrorData.Description); m != "" {
				return m
			}
		}
	}
	var rest struct {
		RestException struct {
			Message string `json:"Message"`
		} `json:"RestException"`
	}
	if json.Unmarshal(raw, &rest) == nil && rest.RestException.Message != "" {
		return rest.RestException.Message
	}
	return "too many requests"
}

// describeBody says what an answer that is not the CCM envelope looked like,
// without copying a proxy's whole HTML page into a results file.
func describeBody(resp *http.Response, raw []byte, jsonErr error) string {
	ct := resp.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch {
	case len(bytes.TrimSpace(raw)) == 0:
		return http.StatusText(resp.StatusCode) + " (empty body)"
	case jsonErr != nil && ct != "":
		return fmt.Sprintf("%s (%s body)", http.StatusText(resp.StatusCode), ct)
	case jsonErr != nil:
		return http.StatusText(resp.StatusCode) + " (body is not JSON)"
	}
	return http.StatusText(resp.StatusCode)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
