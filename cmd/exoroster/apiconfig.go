package main

import (
	"errors"
	"time"

	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/config"
	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/webrtc"
)

// apiFlags are the flags of every command that talks to Exotel: which API
// (the target), where to (the region or base URL; credentials come from the
// environment or a profile), how fast and how persistently.
type apiFlags struct {
	// settings are the run's resolved settings (resolveAPI), which the
	// target, rate, workers and ids below were filled in from; connect
	// reads the credentials and host from them.
	settings *config.Settings

	target      string
	customerID  string
	appID       string
	region      string
	baseURL     string
	rate        string
	burst       int
	workers     int
	maxAttempts int
	timeout     time.Duration
}

// defaultRate follows the limit the server states in its X-RateLimit
// headers, starting at Exotel's documented 50/min when it states none.
const defaultRate = "auto"

func (f *apiFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.region, "region", "sg", "Exotel cluster: sg (ccm-api.exotel.com) or mumbai (ccm-api.in.exotel.com)")
	fs.StringVar(&f.baseURL, "base-url", "", "API scheme and host, overriding --region (env EXOTEL_BASE_URL); http:// only for loopback")
	fs.StringVar(&f.rate, "rate", defaultRate, "requests across all workers: auto (follow the server's X-RateLimit headers, starting at Exotel's documented 50/min), 50/min, 2/s or a plain number per second")
	fs.IntVar(&f.burst, "burst", 1, "requests that may start back to back")
	fs.IntVar(&f.workers, "workers", engine.DefaultWorkers, "concurrent requests")
	fs.IntVar(&f.maxAttempts, "max-attempts", engine.DefaultMaxAttempts, "requests per row before it fails (429s, 5xx and lost connections)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout of each request")
}

func (f *apiFlags) check() error {
	switch {
	case f.workers < 1 || f.workers > 64:
		return usageErr("--workers %d: use 1 to 64", f.workers)
	case f.burst < 1:
		return usageErr("--burst %d: use 1 or more", f.burst)
	case f.maxAttempts < 1:
		return usageErr("--max-attempts %d: use 1 or more", f.maxAttempts)
	case f.timeout <= 0:
		return usageErr("--timeout %v: use a positive duration like 30s", f.timeout)
	}
	if _, err := ratelimit.ParseRate(f.rate); err != nil {
		return usageErr("--rate: %v", err)
	}
	return nil
}

// apiSetup is a run's connection to Exotel: one client of its target (see
// connectTo), one limiter.
type apiSetup struct {
	client  *exotel.Client // the ccm target's
	app     *webrtc.Client // the webrtc target's
	limiter *ratelimit.Limiter
	baseURL string
	rate    float64

	// requests counts the client's requests by answer (--metrics-file):
	// the Pacer the client was given.
	requests *countingPacer
}

// connect builds the CCM client and its shared limiter from the run's
// settings: the credentials (the token read now, from its variable or
// file) and the host. Its errors are one sentence naming what is wrong.
func (a *app) connect(f *apiFlags) (*apiSetup, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	s, err := f.resolved()
	if err != nil {
		return nil, err
	}
	creds, warnings, err := s.CCMCredentials()
	a.warnAll(warnings)
	if err != nil {
		return nil, abortErr(err)
	}
	base, err := exotel.ResolveBaseURL(s.Region.V, s.BaseURL.V)
	if err != nil {
		return nil, abortErr(err)
	}
	perSecond, limiter, requests, err := a.newPacing(f)
	if err != nil {
		return nil, err
	}
	client, err := exotel.New(exotel.Options{
		BaseURL: base, Credentials: creds, HTTPClient: exotel.NewHTTPClient(f.workers, f.timeout),
		Pacer: requests, UserAgent: userAgent(), Logger: a.log,
	})
	if err != nil {
		return nil, abortErr(err)
	}
	// The key is a credential too: logs name it, never show it.
	a.log.Debug("connecting", "base_url", base, "account", creds.AccountSID, "api_key", exotel.NewSecret(creds.APIKey),
		"token", creds.APIToken, "rate", f.rate)
	return &apiSetup{client: client, limiter: limiter, requests: requests, baseURL: base, rate: perSecond}, nil
}

// resolved is the run's settings; a command connects only after resolveAPI.
func (f *apiFlags) resolved() (*config.Settings, error) {
	if f.settings == nil {
		return nil, abortErr(errors.New("the run's settings were not resolved before connecting"))
	}
	return f.settings, nil
}

// newPacing makes a run's one limiter at --rate (auto: the server's stated
// limit) and the counting pacer the client is given, which counts answers
// by status for --metrics-file.
func (a *app) newPacing(f *apiFlags) (perSecond float64, limiter *ratelimit.Limiter, requests *countingPacer, err error) {
	perSecond, _ = ratelimit.ParseRate(f.rate)
	limiter, err = ratelimit.New(ratelimit.Config{Rate: perSecond, Burst: f.burst, Logger: a.log})
	if err != nil {
		return 0, nil, nil, usageErr("--rate: %v", err)
	}
	return perSecond, limiter, newCountingPacer(limiter), nil
}

// userAgent names exoroster and its version to the API.
func userAgent() string { return "exoroster/" + version }
