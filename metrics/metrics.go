// Package metrics writes a run's figures in Prometheus text format for
// node_exporter's textfile collector: what a command did, what the API
// answered, how long the rate limiter held the run, and for an export the
// account's audit counts. The file is replaced atomically, and keeps the
// other commands' series, so one file can serve every command of a host.
package metrics

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/exoroster/exoroster/audit"
)

// Run is what one command's run did, as plain values. Every field but
// Command is optional.
type Run struct {
	Command string // import, export, offboard, update, diff, …
	// Rows counts input rows (or exported users) by results status.
	Rows map[string]int
	// Requests counts requests by HTTP status; 0 counts requests that got
	// no answer (a timeout, a dropped connection).
	Requests map[int]int
	// Throttled counts 429 answers.
	Throttled int
	// Held is how long the rate limiter held every request (a 429's
	// Retry-After, a spent quota).
	Held     time.Duration
	Duration time.Duration
	// Success: the run did what it was asked (exit 0, or exit 3/5 with
	// the run itself complete); the last success time is kept from the
	// previous file when it is false.
	Success  bool
	Finished time.Time // when the run ended; default time.Now()
	// Audit is the account's counts, from an export or a diff.
	Audit *Audit
}

// Audit is a report's counts. A nil pointer or map is a count the report
// could not give (a WebRTC report has no roles or logins); its series is
// left out rather than written as a misleading 0.
type Audit struct {
	Users            int
	ByRole           map[string]int
	Inactive         *int
	UnverifiedDevice *int
	NoDevice         *int
	// Findings counts the users each rule named: every rule that could be
	// evaluated, 0 when it found nothing, so an alert can test > 0.
	Findings map[string]int
	// Changes counts a diff: added, removed, changed and each transition.
	Changes map[string]int
}

// AuditOf takes an audit result's counts; nil for no result (a run that
// stopped before it could audit).
func AuditOf(res *audit.Result) *Audit {
	if res == nil {
		return nil
	}
	s := res.Stats
	a := &Audit{Users: s.Users, ByRole: s.ByRole, Findings: map[string]int{}}
	skipped := func(r audit.Rule) bool {
		return slices.ContainsFunc(res.NotChecked, func(sk audit.Skipped) bool { return sk.Rule == r })
	}
	if s.LastLogin != nil {
		a.Inactive = &s.Inactive
	}
	if !skipped(audit.RuleUnverifiedDevice) {
		a.UnverifiedDevice = &s.UnverifiedDevice
	}
	if !skipped(audit.RuleNoDevice) {
		a.NoDevice = &s.NoDevice
	}
	for _, r := range audit.Rules() {
		if !skipped(r) {
			a.Findings[string(r)] = 0
		}
	}
	for _, f := range res.Findings {
		a.Findings[string(f.Rule)] = len(f.Users)
	}
	if d := res.Diff; d != nil {
		a.Changes = map[string]int{"added": len(d.Added), "removed": len(d.Removed), "changed": len(d.Changed)}
		for _, k := range audit.Transitions() {
			a.Changes[string(k)] = d.Count(k)
		}
	}
	return a
}

// family is one metric this package writes.
type family struct {
	name, help string
	counter    bool
	labels     []string // command first
}

// The metrics, documented in the README. Counters count one run: each run
// is a reset, which rate() and increase() handle.
var (
	famRows        = family{"exoroster_rows_total", "Rows handled in the command's last run, by results status.", true, []string{"command", "status"}}
	famRequests    = family{"exoroster_requests_total", "API requests in the command's last run, by HTTP status code (none: no answer).", true, []string{"command", "code"}}
	famThrottled   = family{"exoroster_throttled_requests_total", "Requests answered 429 Too Many Requests in the command's last run.", true, []string{"command"}}
	famHeld        = family{"exoroster_limiter_held_seconds_total", "Seconds the rate limiter held every request in the command's last run.", true, []string{"command"}}
	famDuration    = family{"exoroster_run_duration_seconds", "How long the command's last run took.", false, []string{"command"}}
	famLastRun     = family{"exoroster_last_run_timestamp_seconds", "When the command last ran, as a Unix time.", false, []string{"command"}}
	famLastOK      = family{"exoroster_last_run_success", "1 if the command's last run succeeded, else 0.", false, []string{"command"}}
	famLastSuccess = family{"exoroster_last_success_timestamp_seconds", "When the command last succeeded, as a Unix time.", false, []string{"command"}}
	famUsers       = family{"exoroster_users", "Users in the account (the report the command audited).", false, []string{"command"}}
	famByRole      = family{"exoroster_users_by_role", "Users by role.", false, []string{"command", "role"}}
	famInactive    = family{"exoroster_inactive_users", "Users who never logged in or not within the inactivity threshold.", false, []string{"command"}}
	famUnverified  = family{"exoroster_unverified_device_users", "Users whose device is not verified.", false, []string{"command"}}
	famNoDevice    = family{"exoroster_no_device_users", "Users with no device to take calls on.", false, []string{"command"}}
	famFindings    = family{"exoroster_audit_findings", "Users named by each audit rule (0: the rule found nothing).", false, []string{"command", "rule"}}
	famChanges     = family{"exoroster_diff_users", "Users in the diff against the previous report, by kind of change.", false, []string{"command", "change"}}

	families = []family{famRows, famRequests, famThrottled, famHeld, famDuration, famLastRun, famLastOK,
		famLastSuccess, famUsers, famByRole, famInactive, famUnverified, famNoDevice, famFindings, famChanges}
)

func (f family) desc() *prometheus.Desc { return prometheus.NewDesc(f.name, f.help, f.labels, nil) }

func (f family) valueType() prometheus.ValueType {
	if f.counter {
		return prometheus.CounterValue
	}
	return prometheus.GaugeValue
}

// Write writes r to path for the textfile collector, through a temporary
// file in the same directory renamed over path (node_exporter reads only
// *.prom files, so it never sees a half-written one). Series of other
// commands already in the file are kept, so commands can share it; so is
// this command's last success time when r did not succeed. A previous
// file that does not parse is replaced. Its folder is created when
// missing (a fresh volume), as export does for its reports.
func Write(path string, r Run) error {
	if r.Command == "" {
		return errors.New("metrics: the run has no command name")
	}
	if r.Finished.IsZero() {
		r.Finished = time.Now()
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(&collector{run: r, previous: readPrevious(path)}); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("cannot write metrics to %s: %w", path, pathErr(err))
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("cannot write metrics to %s: %w", path, pathErr(err))
	}
	return nil
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readPrevious parses the file being replaced; nil when there is none or
// it is not Prometheus text.
func readPrevious(path string) map[string]*dto.MetricFamily {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		return nil
	}
	return mfs
}

// collector emits the run's series and those carried over from the
// previous file.
type collector struct {
	run      Run
	previous map[string]*dto.MetricFamily
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc()
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	r := c.run
	emit := func(f family, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(f.desc(), f.valueType(), v, append([]string{r.Command}, labels...)...)
	}
	for status, n := range r.Rows {
		emit(famRows, float64(n), status)
	}
	for code, n := range r.Requests {
		label := strconv.Itoa(code)
		if code == 0 {
			label = "none"
		}
		emit(famRequests, float64(n), label)
	}
	emit(famThrottled, float64(r.Throttled))
	emit(famHeld, r.Held.Seconds())
	emit(famDuration, r.Duration.Seconds())
	emit(famLastRun, unix(r.Finished))
	if r.Success {
		emit(famLastOK, 1)
		emit(famLastSuccess, unix(r.Finished))
	} else {
		emit(famLastOK, 0)
	}
	if a := r.Audit; a != nil {
		emit(famUsers, float64(a.Users))
		for role, n := range a.ByRole {
			emit(famByRole, float64(n), role)
		}
		for _, opt := range []struct {
			f family
			n *int
		}{{famInactive, a.Inactive}, {famUnverified, a.UnverifiedDevice}, {famNoDevice, a.NoDevice}} {
			if opt.n != nil {
				emit(opt.f, float64(*opt.n))
			}
		}
		for rule, n := range a.Findings {
			emit(famFindings, float64(n), rule)
		}
		for change, n := range a.Changes {
			emit(famChanges, float64(n), change)
		}
	}
	c.carry(ch)
}

// carry re-emits the previous file's series of other commands, and this
// command's last success time when this run failed. Series whose labels
// are not this version's, and repeats, are dropped.
func (c *collector) carry(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	for _, f := range families {
		mf := c.previous[f.name]
		if mf == nil || (mf.GetType() == dto.MetricType_COUNTER) != f.counter {
			continue
		}
		for _, m := range mf.GetMetric() {
			values, ok := labelValues(m, f.labels)
			if !ok {
				continue
			}
			if values[0] == c.run.Command && (f.name != famLastSuccess.name || c.run.Success) {
				continue
			}
			key := f.name + "\x00" + strings.Join(values, "\x00")
			if seen[key] {
				continue
			}
			seen[key] = true
			v := m.GetGauge().GetValue()
			if f.counter {
				v = m.GetCounter().GetValue()
			}
			if cm, err := prometheus.NewConstMetric(f.desc(), f.valueType(), v, values...); err == nil {
				ch <- cm
			}
		}
	}
}

// labelValues returns m's values for exactly these label names.
func labelValues(m *dto.Metric, names []string) ([]string, bool) {
	if len(m.GetLabel()) != len(names) {
		return nil, false
	}
	values := make([]string, len(names))
	for i, n := range names {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == n {
				values[i], found = lp.GetValue(), true
			}
		}
		if !found {
			return nil, false
		}
	}
	return values, true
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
