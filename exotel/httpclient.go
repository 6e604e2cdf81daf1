package exotel

import (
	"net"
	"net/http"
	"time"
)

// NewHTTPClient returns the one HTTP client a run shares: a per-request
// timeout, and enough idle keep-alive connections per host for every worker
// to reuse its own.
func NewHTTPClient(workers int, timeout time.Duration) *http.Client {
	workers = max(workers, 1)
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          2*workers + 4,
			MaxIdleConnsPerHost:   workers + 2,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
}
