// Package exoteltest is an in-process fake of Exotel's CCM Users API v2
// (shared/api/ccm-users-api.txt) and of the WebRTC app users API, in the
// style of net/http/httptest: start one with NewServer, point the client at
// URL(), then inspect what it saw.
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
// The fake also serves the WebRTC integrations app users API
// (shared/api/webrtc-integrations-users-api.txt, Options.WebRTC) under
// /v2/integrations/<customer_id>/apps/<app_id>/users, with the same Limit
// (one limit for both APIs), faults and request log. Where its document is
// silent the fake decides:
//
//   - Checks: rate limit, then the Bearer token (401 "Invalid or expired
//     token"), then the customer and app in the path (401 "Token is not
//     valid for this application": a token is issued per app), then faults,
//     then the endpoint.
//   - Errors are {"success":false,"message":...} (or another shape, by
//     WebRTCOptions.ErrorBody): 400 for a missing user_id or name, a phone
//     that is not E.164, a sip_enabled that is not a boolean, or a
//     duplicate user_id ("User with user_id '<id>' already exists"); 404
//     "User not found". A fault's 500 is this shape too; a 429 has the
//     Limit's body, its "envelope" shape being {"success":false,...}.
//   - Each answer shows the blocks its sample in the document shows: create
//     sip_credentials and created_at, list device_status, get everything.
//     sip_credentials is null when SIP is off; a missing phone is null.
//     A new user's phone device counts as reachable when it has a phone,
//     its SIP device as not yet registered.
//   - A list's limit defaults to 20 and must be positive; above
//     WebRTCOptions.MaxPageSize (no maximum by default) it is 400. A
//     deleted user_id is free again. AllowDuplicates does not apply.
//
// The sip password endpoint (PUT .../devices/<id>/password) is not faked:
// its errors are undocumented, and exoroster does not call it.
package exoteltest
