package exoteltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// The fake writes its own wire structs rather than exotel's types: the
// spec's shapes (nulls, key order, number-or-"NA" codes) are the point.

type envelope struct {
	RequestID string        `json:"request_id"`
	Method    string        `json:"method"`
	HTTPCode  int           `json:"http_code"`
	Metadata  *wireMetadata `json:"metadata,omitempty"`
	Response  any           `json:"response"` // record, []record, or nil
}

type wireMetadata struct {
	Total  int `json:"total"`
	Count  int `json:"count"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

type record struct {
	Code      int            `json:"code"`
	ErrorData *wireErrorData `json:"error_data"`
	Status    string         `json:"status"`
	Data      any            `json:"data"`
}

type wireErrorData struct {
	Code        any    `json:"code"` // a number, or "NA" for 429
	Description string `json:"description"`
	Message     string `json:"message"`
}

type wireDevice struct {
	ID         int64   `json:"id"`
	Name       string  `json:"name"`
	ContactURI string  `json:"contact_uri"`
	Type       string  `json:"type"`
	Available  *bool   `json:"available"`
	Verified   bool    `json:"verified"`
	Status     *string `json:"status"`
}

// wireUser keeps the documents' (alphabetical) key order. Optional blocks
// are raw so that "asked for but unset" can be null while "not asked for"
// is absent.
type wireUser struct {
	ActiveCall    json.RawMessage `json:"active_call,omitempty"`
	DateCreated   string          `json:"date_created"`
	DateUpdated   string          `json:"date_updated"`
	Devices       *[]wireDevice   `json:"devices,omitempty"`
	Email         *string         `json:"email,omitempty"`
	EmailVerified bool            `json:"email_verified"`
	FirstName     string          `json:"first_name"`
	ID            string          `json:"id"`
	LastName      string          `json:"last_name"`
	LastLogin     json.RawMessage `json:"last_login,omitempty"`
	Role          string          `json:"role"`
}

type restException struct {
	RestException struct {
		Status  int    `json:"Status"`
		Message string `json:"Message"`
		Code    string `json:"Code"`
	} `json:"RestException"`
}

// answer is what the fake decided to send, built under the lock and written
// after it is released.
type answer struct {
	status int
	header http.Header
	body   []byte
	code   string // error_data code for the log
	reqID  string
}

func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // names like "A&B" stay as the API would send them
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("exoteltest: encoding answer: %v", err)) // only our own types
	}
	return buf.Bytes()
}

func jsonAnswer(status int, v any) answer {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return answer{status: status, header: h, body: marshal(v)}
}

// success wraps data in a single-record envelope.
func (f *Fake) success(method string, data any) answer {
	id := f.newHex()
	a := jsonAnswer(http.StatusOK, envelope{RequestID: id, Method: method, HTTPCode: http.StatusOK,
		Response: record{Code: http.StatusOK, Status: "success", Data: data}})
	a.reqID = id
	return a
}

// list is the bulk GET's envelope; recs nil gives "response": null.
func (f *Fake) list(method string, md wireMetadata, recs []record) answer {
	id := f.newHex()
	env := envelope{RequestID: id, Method: method, HTTPCode: http.StatusOK, Metadata: &md}
	if recs != nil {
		env.Response = recs
	}
	a := jsonAnswer(http.StatusOK, env)
	a.reqID = id
	return a
}

// fail is a failure envelope. code is an int, or a string such as "NA".
func (f *Fake) fail(method string, status int, code any, msg string) answer {
	id := f.newHex()
	a := jsonAnswer(status, envelope{RequestID: id, Method: method, HTTPCode: status,
		Response: record{Code: status, Status: "failure",
			ErrorData: &wireErrorData{Code: code, Description: msg, Message: msg}}})
	a.reqID = id
	a.code = fmt.Sprint(code)
	return a
}

func htmlAnswer(status int, title string) answer {
	h := http.Header{}
	h.Set("Content-Type", "text/html")
	body := "<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	return answer{status: status, header: h, body: []byte(body)}
}

// throttled builds a 429 in the configured shape.
func (f *Fake) throttled(method string, l Limit, wait time.Duration) answer {
	secs := ceilSeconds(wait)
	var a answer
	switch l.Body {
	case ThrottleEnvelope:
		a = f.fail(method, http.StatusTooManyRequests, "NA", "Too many requests")
	case ThrottleHTML:
		a = htmlAnswer(http.StatusTooManyRequests, "429 Too Many Requests")
		a.code = "NA"
	default:
		var re restException
		re.RestException.Status = http.StatusTooManyRequests
		re.RestException.Message = "Rate limit exceeded. Try again in " + strconv.FormatInt(secs, 10) + " seconds."
		re.RestException.Code = "RATE_LIMIT_EXCEEDED"
		a = jsonAnswer(http.StatusTooManyRequests, re)
		a.code = "RATE_LIMIT_EXCEEDED"
	}
	if l.RetryAfter {
		a.header.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	return a
}
