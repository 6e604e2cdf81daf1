package exotel

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// userJSON is the create answer's data block from the document.
const userJSON = `{
	"date_created": "2021-07-21T21:43:38+05:30",
	"date_updated": "2021-07-21T21:43:38+05:30",
	"devices": [{"id": 425215, "name": "Jxxxx's device", "contact_uri": "+919800074572",
		"type": "tel", "available": null, "verified": false, "status": null}],
	"email": "abc@xyz.com",
	"email_verified": false,
	"first_name": "Jxxxx",
	"id": "bd1fb4af48204e3fa9c22e460d2196bd",
	"last_name": "Ayyyy",
	"role": "user"
}`

var userWant = &User{
	ID: "bd1fb4af48204e3fa9c22e460d2196bd", FirstName: "Jxxxx", LastName: "Ayyyy",
	Email: "abc@xyz.com", Role: RoleUser,
	Devices:     []Device{{ID: 425215, Name: "Jxxxx's device", ContactURI: "+919800074572", Type: "tel"}},
	DateCreated: "2021-07-21T21:43:38+05:30", DateUpdated: "2021-07-21T21:43:38+05:30",
}

func TestSingleRecordSuccess(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		body string
		call func(*Client) (any, error)
		want any
	}{
		{
			name: "create",
			body: successEnvelope("POST", userJSON),
			call: func(c *Client) (any, error) {
				return c.CreateUser(ctx, CreateUserRequest{FirstName: "Jxxxx", LastName: "Ayyyy"})
			},
			want: userWant,
		},
		{
			name: "get without devices",
			body: successEnvelope("GET", `{"email":"abc@xyz.com","email_verified":true,"first_name":"J",
				"id":"9f71","last_name":"A","role":"admin","last_login":"2021-07-28T02:59:34+05:30","active_call":null}`),
			call: func(c *Client) (any, error) { return c.GetUser(ctx, "9f71") },
			want: &User{ID: "9f71", FirstName: "J", LastName: "A", Email: "abc@xyz.com", EmailVerified: true,
				Role: RoleAdmin, LastLogin: "2021-07-28T02:59:34+05:30"},
		},
		{
			name: "update",
			body: successEnvelope("PUT", userJSON),
			call: func(c *Client) (any, error) {
				return c.UpdateUser(ctx, "bd1f", UpdateUserRequest{FirstName: ptr("Jxxxx")})
			},
			want: userWant,
		},
		{
			name: "update device",
			body: successEnvelope("PUT", `{"id":756,"name":"My number","contact_uri":"+919800047047",
				"type":"tel","available":true,"verified":true,"status":"busy"}`),
			call: func(c *Client) (any, error) {
				return c.UpdateDevice(ctx, "4944", 756, UpdateDeviceRequest{Available: ptr(true)})
			},
			want: &Device{ID: 756, Name: "My number", ContactURI: "+919800047047", Type: "tel",
				Available: ptr(true), Verified: true, Status: "busy"},
		},
		{
			name: "delete with data null",
			body: successEnvelope("DELETE", `null`),
			call: func(c *Client) (any, error) { return nil, c.DeleteUser(ctx, "bd1f") },
			want: nil,
		},
		{
			name: "delete with response null",
			body: `{"request_id":"r","method":"DELETE","http_code":200,"response":null}`,
			call: func(c *Client) (any, error) { return nil, c.DeleteUser(ctx, "bd1f") },
			want: nil,
		},
		{
			name: "unknown fields are ignored",
			body: `{"request_id":"r","http_code":200,"extra":[1,2],"response":{"code":200,"status":"success",` +
				`"error_data":null,"data":{"id":"x","first_name":"F","last_name":"L","role":"user","new_field":{}}}}`,
			call: func(c *Client) (any, error) { return c.GetUser(ctx, "x") },
			want: &User{ID: "x", FirstName: "F", LastName: "L", Role: RoleUser},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, jsonAnswer(http.StatusOK, tc.body))
			got, err := tc.call(c)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.want == nil {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestUserHelpers(t *testing.T) {
	u := *userWant
	if !u.HasContact("+919800074572") || u.HasContact("+919800000000") {
		t.Error("HasContact does not match the device's contact_uri exactly")
	}
	if d := u.PrimaryDevice(); d == nil || d.ID != 425215 {
		t.Errorf("PrimaryDevice = %+v", d)
	}
	if d := (&User{}).PrimaryDevice(); d != nil {
		t.Errorf("PrimaryDevice of a user without devices = %+v, want nil", d)
	}
}

// bulkTwo is the document's bulk GET sample (two users, total 229).
const bulkTwo = `{
	"request_id": "516eecedfae14599ae1989cd528e70f0", "method": "GET", "http_code": 200,
	"metadata": {"total": 229, "count": 2, "offset": 40, "limit": 20},
	"response": [
		{"code": 200, "error_data": null, "status": "success", "data": {
			"active_call": "72827ead13a355d334338f53af71157s", "date_created": "2013-10-05T11:06:56+05:30",
			"date_updated": "2013-10-05T11:06:56+05:30",
			"devices": [{"id": 756, "name": "My number", "contact_uri": "+919800047047", "type": "tel",
				"available": true, "verified": true, "status": "busy"}],
			"email": "abc@xyz.com", "email_verified": true, "first_name": "Ixxxx",
			"id": "4944735d9ae8436e91956d2ec11c638b", "last_name": "Syyyy",
			"last_login": "2013-09-30T09:11:20+05:30", "role": "admin"}},
		{"code": 200, "error_data": null, "status": "success", "data": {
			"active_call": null, "devices": [], "email": "jkl@mno.com", "email_verified": true,
			"first_name": "Sxxxx", "id": "4d549a1ba55b4fab864c984963a3af91", "last_name": "Gyyyy",
			"role": "supervisor"}}
	]
}`

// counts is the numeric part of a Page.
type counts struct{ Total, Count, Offset, Limit int }

func TestListUsersDecoding(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		opts       ListOptions
		want       counts
		wantIDs    []string
		wantErrors []APIError // Kind, HTTPStatus, Code, Message
	}{
		{
			name:    "metadata and array",
			body:    bulkTwo,
			opts:    ListOptions{Offset: 40, Limit: 20},
			want:    counts{Total: 229, Count: 2, Offset: 40, Limit: 20},
			wantIDs: []string{"4944735d9ae8436e91956d2ec11c638b", "4d549a1ba55b4fab864c984963a3af91"},
		},
		{
			name: "response null past the end",
			body: `{"request_id":"r","method":"GET","http_code":200,` +
				`"metadata":{"total":229,"count":0,"offset":240,"limit":20},"response":null}`,
			opts: ListOptions{Offset: 240, Limit: 20},
			want: counts{Total: 229, Count: 0, Offset: 240, Limit: 20},
		},
		{
			name: "response null without metadata",
			body: `{"request_id":"r","method":"GET","http_code":200,"response":null}`,
			opts: ListOptions{Offset: 60, Limit: 30},
			want: counts{Offset: 60, Limit: 30},
		},
		{
			name: "response missing",
			body: `{"request_id":"r","method":"GET","http_code":200}`,
			opts: ListOptions{Offset: 0},
			want: counts{},
		},
		{
			name: "missing metadata counts users and keeps the options",
			body: `{"request_id":"r","http_code":200,"response":[` +
				`{"code":200,"error_data":null,"status":"success","data":{"id":"a","first_name":"A","last_name":"A","role":"user"}}]}`,
			opts:    ListOptions{Offset: 7, Limit: 3},
			want:    counts{Count: 1, Offset: 7, Limit: 3},
			wantIDs: []string{"a"},
		},
		{
			name: "element with status failure goes to Errors",
			body: `{"request_id":"req-7","http_code":200,"metadata":{"total":2,"count":2,"offset":0,"limit":50},"response":[` +
				`{"code":200,"error_data":null,"status":"success","data":{"id":"a","first_name":"A","last_name":"A","role":"user"}},` +
				`{"code":500,"error_data":{"code":1004,"description":"","message":"Internal Server Error"},"status":"failure","data":null}]}`,
			opts:       ListOptions{Limit: 50},
			want:       counts{Total: 2, Count: 2, Limit: 50},
			wantIDs:    []string{"a"},
			wantErrors: []APIError{{Kind: KindServer, HTTPStatus: 500, Code: "1004", Message: "Internal Server Error", RequestID: "req-7"}},
		},
		{
			name: "element with status failure and no error_data goes to Errors",
			body: `{"request_id":"req-8","http_code":200,"response":[` +
				`{"code":200,"error_data":null,"status":"failure","data":null},` +
				`{"code":200,"error_data":null,"status":"success","data":{"id":"b","first_name":"B","last_name":"B","role":"user"}}]}`,
			want:       counts{Count: 1},
			wantIDs:    []string{"b"},
			wantErrors: []APIError{{Kind: KindServer, HTTPStatus: 200, RequestID: "req-8"}},
		},
		{
			name: "element with a 404 code is not found",
			body: `{"request_id":"req-9","http_code":200,"response":[` +
				`{"code":404,"error_data":{"code":"1018","description":"Device not found","message":""},"status":"failure","data":null}]}`,
			want:       counts{Count: 0},
			wantErrors: []APIError{{Kind: KindNotFound, HTTPStatus: 404, Code: "1018", Message: "Device not found", RequestID: "req-9"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, jsonAnswer(http.StatusOK, tc.body))
			page, err := c.ListUsers(context.Background(), tc.opts)
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			got := counts{Total: page.Total, Count: page.Count, Offset: page.Offset, Limit: page.Limit}
			if got != tc.want {
				t.Errorf("page = %+v, want %+v", got, tc.want)
			}
			var ids []string
			for _, u := range page.Users {
				ids = append(ids, u.ID)
			}
			if !reflect.DeepEqual(ids, tc.wantIDs) {
				t.Errorf("user ids = %q, want %q", ids, tc.wantIDs)
			}
			if len(tc.wantIDs) == 0 && page.Users != nil && len(page.Users) != 0 {
				t.Errorf("Users = %+v, want none", page.Users)
			}
			var gotErrs []APIError
			for _, e := range page.Errors {
				gotErrs = append(gotErrs, *e)
			}
			if !reflect.DeepEqual(gotErrs, tc.wantErrors) {
				t.Errorf("Errors = %+v\nwant     %+v", gotErrs, tc.wantErrors)
			}
		})
	}
}

func TestListUsersSampleFields(t *testing.T) {
	c, _ := newTestClient(t, jsonAnswer(http.StatusOK, bulkTwo))
	page, err := c.ListUsers(context.Background(), ListOptions{Fields: []string{"devices", "active_call", "last_login"}})
	if err != nil {
		t.Fatal(err)
	}
	want := User{
		ID: "4944735d9ae8436e91956d2ec11c638b", FirstName: "Ixxxx", LastName: "Syyyy", Email: "abc@xyz.com",
		EmailVerified: true, Role: RoleAdmin, ActiveCall: "72827ead13a355d334338f53af71157s",
		LastLogin: "2013-09-30T09:11:20+05:30", DateCreated: "2013-10-05T11:06:56+05:30",
		DateUpdated: "2013-10-05T11:06:56+05:30",
		Devices: []Device{{ID: 756, Name: "My number", ContactURI: "+919800047047", Type: "tel",
			Available: ptr(true), Verified: true, Status: "busy"}},
	}
	if !reflect.DeepEqual(page.Users[0], want) {
		t.Errorf("first user = %+v\nwant         %+v", page.Users[0], want)
	}
}

func TestListUsersBadShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		// wantErr: the call fails with KindServer; otherwise one Page.Errors entry.
		wantErr bool
	}{
		{name: "response is an object", body: `{"request_id":"r","http_code":200,"response":{"code":200}}`, wantErr: true},
		{name: "response is a string", body: `{"request_id":"r","http_code":200,"response":"nope"}`, wantErr: true},
		{name: "data is not a user", body: `{"request_id":"r","http_code":200,"response":[{"code":200,"status":"success","data":"x"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, jsonAnswer(http.StatusOK, tc.body))
			page, err := c.ListUsers(context.Background(), ListOptions{})
			if tc.wantErr {
				if ae := asAPIError(t, err); ae.Kind != KindServer || ae.RequestID != "r" {
					t.Errorf("error = %+v, want KindServer with the request id", ae)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Errors) != 1 || page.Errors[0].Kind != KindServer || len(page.Users) != 0 {
				t.Errorf("page = %+v, want one KindServer entry in Errors", page)
			}
		})
	}
}

func TestSingleBadShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "response is an array", body: `{"request_id":"r","http_code":200,"response":[]}`},
		{name: "data is not a user", body: successEnvelope("GET", `[1,2]`)},
		{name: "body is a JSON array", body: `[]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, jsonAnswer(http.StatusOK, tc.body))
			u, err := c.GetUser(context.Background(), "x")
			if u != nil {
				t.Errorf("user = %+v, want nil", u)
			}
			if ae := asAPIError(t, err); ae.Kind != KindServer || ae.HTTPStatus != 200 {
				t.Errorf("error = %+v, want KindServer, HTTP 200", ae)
			}
		})
	}
}

func TestErrorAnswers(t *testing.T) {
	const htmlPage = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
	tests := []struct {
		name    string
		status  int
		body    string
		headers []string
		want    APIError
		// wantIn must appear in Message; notIn must not.
		wantIn, notIn string
	}{
		{name: "400 1001", status: 400, body: errorEnvelope(400, `1001`, "first_name is mandatory"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "1001", Message: "first_name is mandatory", RequestID: "req-err"}},
		{name: "400 1401", status: 400, body: errorEnvelope(400, `1401`, "Enter Valid Phone Number"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "1401", Message: "Enter Valid Phone Number", RequestID: "req-err"}},
		{name: "400 1023", status: 400, body: errorEnvelope(400, `1023`, "Enter valid role for user"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "1023", Message: "Enter valid role for user", RequestID: "req-err"}},
		{name: "400 1007", status: 400, body: errorEnvelope(400, `1007`, "Invalid request body, failed parsing"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "1007", Message: "Invalid request body, failed parsing", RequestID: "req-err"}},
		{name: "401 1010", status: 401, body: errorEnvelope(401, `1010`, "Authentication failed"),
			want: APIError{Kind: KindAuth, HTTPStatus: 401, Code: "1010", Message: "Authentication failed", RequestID: "req-err"}},
		{name: "403 1003", status: 403, body: errorEnvelope(403, `1003`, "This account's KYC is incomplete. Operation not permitted"),
			want: APIError{Kind: KindAuth, HTTPStatus: 403, Code: "1003", Message: "This account's KYC is incomplete. Operation not permitted", RequestID: "req-err"}},
		{name: "404 user not found", status: 404, body: errorEnvelope(404, `404`, "User not found"),
			want: APIError{Kind: KindNotFound, HTTPStatus: 404, Code: "404", Message: "User not found", RequestID: "req-err"}},
		{name: "404 1018", status: 404, body: errorEnvelope(404, `1018`, "Device not found"),
			want: APIError{Kind: KindNotFound, HTTPStatus: 404, Code: "1018", Message: "Device not found", RequestID: "req-err"}},
		{name: "409 1021", status: 409, body: errorEnvelope(409, `1021`, "Device already exists; Resource conflict"),
			want: APIError{Kind: KindConflict, HTTPStatus: 409, Code: "1021", Message: "Device already exists; Resource conflict", RequestID: "req-err"}},
		{name: "409 1022", status: 409, body: errorEnvelope(409, `1022`, "Email already exists for another account; Resource conflict"),
			want: APIError{Kind: KindConflict, HTTPStatus: 409, Code: "1022", Message: "Email already exists for another account; Resource conflict", RequestID: "req-err"}},
		{name: "500 1004", status: 500, body: errorEnvelope(500, `1004`, "Internal Server Error"),
			want: APIError{Kind: KindServer, HTTPStatus: 500, Code: "1004", Message: "Internal Server Error", RequestID: "req-err"}},
		{name: "code as string", status: 409, body: errorEnvelope(409, `"1022"`, "Email already exists"),
			want: APIError{Kind: KindConflict, HTTPStatus: 409, Code: "1022", Message: "Email already exists", RequestID: "req-err"}},
		{name: "code as NA", status: 400, body: errorEnvelope(400, `"NA"`, "Bad request"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "NA", Message: "Bad request", RequestID: "req-err"}},
		{name: "code null", status: 400, body: errorEnvelope(400, `null`, "Bad request"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Message: "Bad request", RequestID: "req-err"}},
		{name: "message falls back to description", status: 400,
			body: `{"request_id":"r1","http_code":400,"response":{"code":400,"error_data":{"code":1001,"description":"Email format not valid","message":" "},"status":"failure","data":null}}`,
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "1001", Message: "Email format not valid", RequestID: "r1"}},
		{name: "unlisted 4xx is invalid", status: 422, body: errorEnvelope(422, `1001`, "nope"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 422, Code: "1001", Message: "nope", RequestID: "req-err"}},
		{name: "HTTP 200 whose record carries error_data", status: 200,
			body: `{"request_id":"r2","method":"POST","http_code":409,"response":{"code":409,"error_data":{"code":1022,"description":"","message":"Email already exists"},"status":"failure","data":null}}`,
			want: APIError{Kind: KindConflict, HTTPStatus: 409, Code: "1022", Message: "Email already exists", RequestID: "r2"}},
		{name: "HTTP 200 whose record says 400", status: 200,
			body: `{"request_id":"r3","http_code":400,"response":{"code":400,"error_data":{"code":"1401","description":"","message":"Enter Valid Phone Number"},"status":"failure","data":null}}`,
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "1401", Message: "Enter Valid Phone Number", RequestID: "r3"}},
		{name: "HTTP 200 non-JSON body", status: 200, body: "OK", headers: []string{"Content-Type", "text/plain; charset=utf-8"},
			want: APIError{Kind: KindServer, HTTPStatus: 200}, wantIn: "text/plain"},
		{name: "HTTP 200 empty body", status: 200, body: "",
			want: APIError{Kind: KindServer, HTTPStatus: 200}, wantIn: "empty body"},
		{name: "502 HTML page", status: 502, body: htmlPage, headers: []string{"Content-Type", "text/html; charset=utf-8"},
			want: APIError{Kind: KindServer, HTTPStatus: 502}, wantIn: "text/html", notIn: "<"},
		{name: "500 empty body", status: 500, body: "",
			want: APIError{Kind: KindServer, HTTPStatus: 500}, wantIn: "empty body"},
		{name: "503 JSON that is not an envelope", status: 503, body: `{"error":"maintenance"}`, headers: []string{"Content-Type", "application/json"},
			want: APIError{Kind: KindServer, HTTPStatus: 503, Message: "Service Unavailable"}},
		{name: "error_data code of a wrong type", status: 400, body: errorEnvelope(400, `{"x":1}`, "hidden"),
			want: APIError{Kind: KindInvalid, HTTPStatus: 400, Message: "Bad Request", RequestID: "req-err"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, answer(tc.status, tc.body, tc.headers...))
			u, err := c.CreateUser(context.Background(), CreateUserRequest{FirstName: "A", LastName: "B"})
			if u != nil {
				t.Errorf("user = %+v, want nil", u)
			}
			ae := asAPIError(t, err)
			got := *ae
			if tc.want.Message == "" {
				got.Message = "" // checked by wantIn/notIn
			}
			if got != tc.want {
				t.Errorf("error = %+v\nwant    %+v", *ae, tc.want)
			}
			if ae.Message == "" {
				t.Error("Message is empty")
			}
			if tc.wantIn != "" && !strings.Contains(ae.Message, tc.wantIn) {
				t.Errorf("Message %q does not mention %q", ae.Message, tc.wantIn)
			}
			if tc.notIn != "" && strings.Contains(ae.Error(), tc.notIn) {
				t.Errorf("Error() %q contains %q", ae.Error(), tc.notIn)
			}
			if KindOf(err) != tc.want.Kind {
				t.Errorf("KindOf = %v, want %v", KindOf(err), tc.want.Kind)
			}
		})
	}
}

func TestThrottled(t *testing.T) {
	const restException = `{"RestException":{"Status":429,"Message":"Rate limit exceeded. Try again in 30 seconds.","Code":"RATE_LIMIT_EXCEEDED"}}`
	in2min := time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)
	tests := []struct {
		name             string
		body             string
		headers          []string
		wantMsg          string
		wantReqID        string
		minWait, maxWait time.Duration
	}{
		{name: "RestException body, Retry-After seconds", body: restException,
			headers: []string{"Content-Type", "application/json", "Retry-After", "30"},
			wantMsg: "Rate limit exceeded. Try again in 30 seconds.", minWait: 30 * time.Second, maxWait: 30 * time.Second},
		{name: "CCM envelope body", body: errorEnvelope(429, `"NA"`, "Too many requests"),
			headers: []string{"Content-Type", "application/json", "Retry-After", "7"},
			wantMsg: "Too many requests", wantReqID: "req-err", minWait: 7 * time.Second, maxWait: 7 * time.Second},
		{name: "HTML body, Retry-After HTTP date", body: "<html><body><h1>429 Too Many Requests</h1></body></html>",
			headers: []string{"Content-Type", "text/html", "Retry-After", in2min},
			wantMsg: "too many requests", minWait: 115 * time.Second, maxWait: 2 * time.Minute},
		{name: "empty body, no Retry-After", body: "", wantMsg: "too many requests"},
		{name: "JSON of another shape, garbled Retry-After", body: `{"error":"slow down"}`,
			headers: []string{"Retry-After", "soon"}, wantMsg: "too many requests"},
		{name: "truncated JSON", body: `{"RestException":{"Message":"Rate li`, wantMsg: "too many requests"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, answer(http.StatusTooManyRequests, tc.body, tc.headers...))
			calls := []struct {
				name string
				do   func() error
			}{
				{"create", func() error {
					_, err := c.CreateUser(context.Background(), CreateUserRequest{FirstName: "A", LastName: "B"})
					return err
				}},
				{"list", func() error { _, err := c.ListUsers(context.Background(), ListOptions{}); return err }},
			}
			for _, call := range calls {
				err := call.do()
				ae := asAPIError(t, err)
				if ae.Kind != KindThrottled || ae.HTTPStatus != 429 {
					t.Errorf("%s: error = %+v, want KindThrottled, 429", call.name, ae)
				}
				if ae.Message != tc.wantMsg {
					t.Errorf("%s: Message = %q, want %q", call.name, ae.Message, tc.wantMsg)
				}
				if ae.RequestID != tc.wantReqID {
					t.Errorf("%s: RequestID = %q, want %q", call.name, ae.RequestID, tc.wantReqID)
				}
				if ae.RetryAfter < tc.minWait || ae.RetryAfter > tc.maxWait {
					t.Errorf("%s: RetryAfter = %v, want %v..%v", call.name, ae.RetryAfter, tc.minWait, tc.maxWait)
				}
				if s := strings.ToLower(ae.Message); strings.Contains(s, "unreadable") || strings.Contains(s, "invalid character") {
					t.Errorf("%s: Message %q reads like a decode error", call.name, ae.Message)
				}
			}
		})
	}
}

func TestFlexCode(t *testing.T) {
	tests := []struct {
		in      string
		want    FlexCode
		wantErr bool
		out     string // MarshalJSON of want
	}{
		{in: `1022`, want: "1022", out: `1022`},
		{in: `"1022"`, want: "1022", out: `1022`},
		{in: `" 1004 "`, want: "1004", out: `1004`},
		{in: `"NA"`, want: "NA", out: `"NA"`},
		{in: `null`, want: "", out: `null`},
		{in: `true`, wantErr: true},
		{in: `{}`, wantErr: true},
		{in: `"unterminated`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var c FlexCode = "previous"
			err := c.UnmarshalJSON([]byte(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Errorf("UnmarshalJSON(%s) = %q, want an error", tc.in, c)
				}
				return
			}
			if err != nil || c != tc.want {
				t.Fatalf("UnmarshalJSON(%s) = %q, %v; want %q", tc.in, c, err, tc.want)
			}
			out, err := c.MarshalJSON()
			if err != nil || string(out) != tc.out {
				t.Errorf("MarshalJSON(%q) = %s, %v; want %s", c, out, err, tc.out)
			}
		})
	}
}
