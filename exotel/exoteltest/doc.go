// Package exoteltest is an in-process fake of Exotel's CCM Users API v2
// (shared/api/ccm-users-api.txt), in the style of net/http/httptest: start
// one with NewServer, point the client at URL(), then inspect what it saw.
// The sandbox command serves the same fake on an address of its choosing
// with NewHandler.
//
// The fake answers what the document says, not what exotel.Client happens to
// tolerate. Where the document is silent it decides as follows:
//
//   - Order of checks for a request under /v2/accounts/<sid>/users: rate
//     limit, then Basic auth (401 1010), then the account sid (403 1003),
//     then faults, then the endpoint. Exotel counts every call against the
//     account, so a refused login still spends quota. All sids share the one
//     limit: the fake serves one account. Paths elsewhere get a 404 envelope
//     and are neither limited nor authenticated.
//   - An unknown user id answers 404 with error_data {code: 404, message:
//     "User not found"}; the table lists no code for it. An unknown or
//     foreign device id answers 404 1018 "Device not found". Other paths
//     under the resource answer 404 (code 404) and wrong methods 405 (code
//     405, with an Allow header).
//   - A user without an email has no "email" key. devices appears on POST
//     and PUT answers (as the samples show) and on GETs only with
//     fields=devices; last_login and active_call only when asked, as null
//     when unset.
//   - Bulk GET filters: the value is URL-decoded, then split on commas (so
//     a list escaped whole, commas as %2C, works too); an item that decoded
//     to a leading space is read as "+" in devices.contact_uri, since a
//     literal + in a query decodes to a space and real servers are lenient
//     about it. Empty items are ignored, a filter with no items is no
//     filter, and a repeated parameter adds to the list. Emails match
//     case-insensitively, contact URIs exactly; both filters together are
//     an AND. offset must be a non-negative integer and limit 1..50, else
//     400 1007 "Request format is invalid".
//   - PUT user: a blank first or last name is 400 1001 like on create; an
//     email is refused with 400 1002 whenever the user already has one,
//     even the same one. date_updated moves on every successful PUT.
//   - PUT device: on an unverified device both available=true and
//     available=false are 403 1003 "Device is unverified" (its availability
//     is null by definition); turning a second device ON is 403 1003;
//     changing a sip device's contact_uri is 403 1003 "This device is not
//     PSTN"; re-sending the current contact_uri changes nothing.
//   - A deleted user's email is a tombstone forever (case-insensitive); its
//     phone number is free again.
//   - Options.Now also drives the rate limiter, so a test can step a fake
//     clock instead of sleeping. A Limit with Rate > 0 and no Window means
//     Rate per minute, Exotel's unit. X-RateLimit-Limit is Rate for
//     FixedWindow and Burst for TokenBucket (Remaining never exceeds it).
//     The RestException message names the real wait in seconds.
//   - Latency, jitter and SlowLatency are served after the request took
//     effect and before the answer is written: a client that gives up
//     meanwhile leaves the write done. Drops happen at once, after the
//     whole request was read, so to the client a drop before and a drop
//     after look alike (the request was sent; no answer came).
//   - The request log is in the order the fake settled requests, which is
//     the order their effects happened.
//
// The sip password endpoint (PUT .../devices/<id>/password) is not faked:
// its errors are undocumented, and exoroster does not call it.
package exoteltest
