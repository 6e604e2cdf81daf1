package exotel

import "github.com/exoroster/exoroster/ratelimit"

// RetryReporter reports, on its log, the retries of requests that got no
// answer; *Client is one (Retrying).
type RetryReporter interface {
	Retrying(maxAttempts int) func(error) ratelimit.Verdict
}

// Classifier returns the classify function for one ratelimit.Retry call of
// up to maxAttempts against api: api's own Retrying when it reports retries
// (so an outage prints one line per attempt number, not minutes of
// silence), else RetryVerdict. Use a new one for each Retry call.
func Classifier(api any, maxAttempts int) func(error) ratelimit.Verdict {
	if r, ok := api.(RetryReporter); ok {
		return r.Retrying(maxAttempts)
	}
	return RetryVerdict
}
