package exotel

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestNewHTTPClient(t *testing.T) {
	tests := []struct {
		workers int
		timeout time.Duration
	}{
		{0, 30 * time.Second}, {-3, time.Second}, {1, 30 * time.Second}, {8, 10 * time.Second}, {64, time.Minute},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d workers", tc.workers), func(t *testing.T) {
			c := NewHTTPClient(tc.workers, tc.timeout)
			if c.Timeout != tc.timeout {
				t.Errorf("Timeout = %v, want %v", c.Timeout, tc.timeout)
			}
			tr, ok := c.Transport.(*http.Transport)
			if !ok {
				t.Fatalf("Transport is %T, want *http.Transport", c.Transport)
			}
			need := max(tc.workers, 1)
			if tr.MaxIdleConnsPerHost < need {
				t.Errorf("MaxIdleConnsPerHost = %d, want at least %d", tr.MaxIdleConnsPerHost, need)
			}
			if tr.MaxIdleConns != 0 && tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
				t.Errorf("MaxIdleConns = %d caps MaxIdleConnsPerHost = %d", tr.MaxIdleConns, tr.MaxIdleConnsPerHost)
			}
			if tr.Proxy == nil || tr.DialContext == nil || tr.TLSHandshakeTimeout <= 0 || tr.IdleConnTimeout <= 0 {
				t.Errorf("transport lacks proxy, dialer or timeouts: %+v", tr)
			}
		})
	}
}
