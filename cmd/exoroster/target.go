package main

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/webrtc"
)

// The APIs a run can work on: Exotel's CCM Users API, or the users of one
// WebRTC integrations app.
const (
	targetCCM    = "ccm"
	targetWebRTC = "webrtc"
	envTarget    = "EXOTEL_TARGET"
)

func registerTarget(fs *pflag.FlagSet, target *string) {
	fs.StringVar(target, "target", "", "API to work on: ccm (Exotel's CCM users, the default) or webrtc (a WebRTC app's users) (env "+envTarget+")")
}

// registerTarget adds --target and the webrtc target's ids to a command
// that connects with f.
func (f *apiFlags) registerTarget(fs *pflag.FlagSet) {
	registerTarget(fs, &f.target)
	fs.StringVar(&f.customerID, "customer-id", "", "webrtc target: the customer id (env "+webrtc.EnvCustomerID+")")
	fs.StringVar(&f.appID, "app-id", "", "webrtc target: the app id (env "+webrtc.EnvAppID+")")
}

// targetOf is --target, else EXOTEL_TARGET, else ccm.
func (a *app) targetOf(f *apiFlags) (string, error) { return a.pickTarget(f.target) }

func (a *app) pickTarget(flag string) (string, error) {
	name, from := strings.ToLower(strings.TrimSpace(flag)), "--target"
	if name == "" {
		name, from = strings.ToLower(strings.TrimSpace(a.env.Getenv(envTarget))), envTarget
	}
	switch name {
	case "":
		return targetCCM, nil
	case targetCCM, targetWebRTC:
		return name, nil
	}
	return "", usageErr("%s %q: use ccm or webrtc", from, name)
}

// connectTo connects to target: see connect and connectApp.
func (a *app) connectTo(target string, f *apiFlags) (*apiSetup, error) {
	if target == targetWebRTC {
		return a.connectApp(f)
	}
	return a.connect(f)
}

// connectApp connects to the webrtc target with its own credentials from
// the run's settings (the token from EXOTEL_WEBRTC_TOKEN, its _FILE twin or
// the profile; the ids from --customer-id and --app-id, their variables or
// the profile): no CCM setting is read.
func (a *app) connectApp(f *apiFlags) (*apiSetup, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	s, err := f.resolved()
	if err != nil {
		return nil, err
	}
	app, warnings, err := s.WebRTCCredentials()
	a.warnAll(warnings)
	if err != nil {
		return nil, abortErr(err)
	}
	creds := webrtc.Credentials{Token: app.Token, CustomerID: app.CustomerID, AppID: app.AppID}
	base, err := webrtc.ResolveBaseURL(s.BaseURL.V)
	if err != nil {
		return nil, abortErr(err)
	}
	perSecond, limiter, requests, err := a.newPacing(f)
	if err != nil {
		return nil, err
	}
	client, err := webrtc.New(webrtc.Options{
		BaseURL: base, Credentials: creds, HTTPClient: exotel.NewHTTPClient(f.workers, f.timeout),
		Pacer: requests, UserAgent: userAgent(), Logger: a.log,
	})
	if err != nil {
		return nil, abortErr(err)
	}
	a.log.Debug("connecting", "target", targetWebRTC, "base_url", base, "customer_id", creds.CustomerID,
		"app_id", creds.AppID, "token", creds.Token, "rate", f.rate)
	return &apiSetup{app: client, limiter: limiter, requests: requests, baseURL: base, rate: perSecond}, nil
}

// appTarget is the webrtc target's adapter; setup nil for a run that sends
// nothing.
func (a *app) appTarget(setup *apiSetup, f *apiFlags) *webrtc.Target {
	cfg := webrtc.TargetConfig{Workers: f.workers, MaxAttempts: f.maxAttempts, Logger: a.log}
	if setup == nil {
		return webrtc.NewTarget(nil, nil, cfg)
	}
	return webrtc.NewTarget(setup.app, setup.limiter, cfg)
}

// importRows is how the target reads a roster.
func (a *app) importRows(target string, f *apiFlags) importer.Rows {
	if target == targetWebRTC {
		return a.appTarget(nil, f)
	}
	return importer.CCMRows()
}

// newImporter is the importer into the target; setup nil for a dry run.
func (a *app) newImporter(target string, setup *apiSetup, f *apiFlags, cfg importer.Config) *importer.Importer {
	switch {
	case target == targetWebRTC && setup == nil:
		return importer.NewFor(a.appTarget(nil, f), nil, cfg)
	case target == targetWebRTC:
		return importer.NewFor(a.appTarget(setup, f), setup.limiter, cfg)
	case setup == nil:
		return importer.New(nil, nil, cfg)
	}
	return importer.New(setup.client, setup.limiter, cfg)
}

// newOffboarder is the offboarder of the target.
func (a *app) newOffboarder(target string, setup *apiSetup, f *apiFlags, cfg offboard.Config) *offboard.Offboarder {
	if target == targetWebRTC {
		return offboard.NewFor(a.appTarget(setup, f), setup.limiter, cfg)
	}
	return offboard.New(setup.client, setup.limiter, cfg)
}

// readTargetList reads a list of users to find, as the target finds them,
// after saying how it reads it. Its errors carry their exit code.
func (a *app) readTargetList(target, path string, read roster.ReadOptions, opts roster.Options) (*resolve.List, error) {
	if target != targetWebRTC {
		return a.readList(path, read, opts)
	}
	rd, err := a.openRoster(path, read)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	list, err := webrtc.ReadRows(path, rd, opts)
	if err != nil {
		return nil, abortErr(err)
	}
	return list, nil
}

// accountName is the account a confirmation names.
func (a *app) accountName(target string, f *apiFlags) string {
	if target == targetWebRTC {
		return f.appID + " (a WebRTC app of customer " + f.customerID + ")"
	}
	if f.settings == nil {
		return ""
	}
	return f.settings.AccountSID.V
}

// targetFlag is what a command line printed for the user to run next needs
// to name the run's target.
func targetFlag(target string) string {
	if target == targetWebRTC {
		return " --target webrtc"
	}
	return ""
}
