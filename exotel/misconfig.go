package exotel

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"
)

// Misconfiguration names the cause of a failure that waiting cannot fix (a
// TLS handshake with a server that speaks plain http, a certificate that is
// not trusted, a refused connection, an unknown host) and its likely fix.
type Misconfiguration struct {
	Cause string // e.g. "the server at 127.0.0.1:8080 speaks plain http, not https"
	Fix   string // e.g. "use http://127.0.0.1:8080 as --base-url or EXOTEL_BASE_URL"
}

// String is the one sentence a run stops with.
func (m *Misconfiguration) String() string { return m.Cause + ": " + m.Fix }

// IsMisconfiguration reports whether err is a failure of a client's first
// request (no request of the client had been answered yet) that waiting
// cannot fix. Such a failure is final: RetryVerdict says Stop, and a run
// should end with ExplainMisconfiguration's sentence. The same failure later
// in a run (the network went away) is an ordinary transport error and is
// retried.
func IsMisconfiguration(err error) bool {
	var te *TransportError
	return errors.As(err, &te) && te.Misconfiguration != nil
}

// ExplainMisconfiguration returns the one-sentence error a run stops with
// when IsMisconfiguration(err), and err unchanged otherwise.
func ExplainMisconfiguration(err error) error {
	var te *TransportError
	if errors.As(err, &te) && te.Misconfiguration != nil {
		return errors.New(te.Misconfiguration.String())
	}
	return err
}

// diagnose names the cause of a transport failure that waiting cannot fix,
// for a client whose base URL is base and comes from origin. It returns nil
// for any other failure: a timeout, a dropped connection or a temporary DNS
// failure may pass.
func diagnose(err error, base *url.URL, origin Origin) *Misconfiguration {
	host, setting := base.Host, origin.Setting
	var (
		recordErr tls.RecordHeaderError
		verifyErr *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		dnsErr    *net.DNSError
	)
	switch {
	case errors.Is(err, http.ErrSchemeMismatch) || (errors.As(err, &recordErr) && plainText(recordErr.RecordHeader)):
		m := &Misconfiguration{Cause: fmt.Sprintf("the server at %s speaks plain http, not https", host)}
		if IsLoopback(base.Hostname()) {
			m.Fix = fmt.Sprintf("use http://%s as %s", host, setting)
		} else {
			m.Fix = fmt.Sprintf("check %s (plain http is allowed only for loopback hosts; %s)", setting, origin.API)
		}
		return m
	case errors.As(err, &verifyErr), errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		return &Misconfiguration{
			Cause: fmt.Sprintf("the TLS certificate of %s is not trusted (%v)", host, certDetail(err)),
			Fix:   fmt.Sprintf("check %s; behind a proxy that inspects TLS, add its CA certificate to the system's trust store or SSL_CERT_FILE", setting),
		}
	case errors.As(err, &recordErr), errors.As(err, &alert):
		return &Misconfiguration{
			Cause: fmt.Sprintf("the TLS handshake with %s failed (%v)", host, err),
			Fix:   fmt.Sprintf("check that %s names the API's host and port (%s)", setting, origin.API),
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &Misconfiguration{
			Cause: fmt.Sprintf("%s refused the connection", host),
			Fix:   fmt.Sprintf("check %s and that the server is running, or the proxy and firewall in between", setting),
		}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		names := setting
		if origin.Picker != "" {
			names = origin.Picker + " and " + setting
		}
		return &Misconfiguration{
			Cause: fmt.Sprintf("the host name %s is unknown", dnsErr.Name),
			Fix:   fmt.Sprintf("check %s for a typo, and this machine's DNS", names),
		}
	}
	return nil
}

// certDetail is what x509 says about a certificate, without tls's wrapper.
func certDetail(err error) error {
	var verifyErr *tls.CertificateVerificationError
	if errors.As(err, &verifyErr) && verifyErr.Err != nil {
		return verifyErr.Err
	}
	return err
}

// plainText reports whether the first bytes a server sent where a TLS
// record was due are text: "HTTP/" from a plain-http server, or an error
// page with no status line at all ("<!DOC"), which Python's http.server
// sends to a request line it cannot read (a TLS hello), as HTTP/0.9 would.
// A TLS record starts with a content type byte (20 to 24), never text.
func plainText(header [5]byte) bool {
	for _, b := range header {
		if (b < 0x20 || b > 0x7e) && b != '\n' && b != '\r' && b != '\t' {
			return false
		}
	}
	return true
}
