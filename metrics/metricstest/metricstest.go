// Package metricstest reads a metrics file back in tests, as node_exporter's
// textfile collector would.
package metricstest

import (
	"os"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Parse reads the Prometheus text file at path, failing t if it is not one.
func Parse(t testing.TB, path string) map[string]*dto.MetricFamily {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatalf("%s is not Prometheus text: %v", path, err)
	}
	return mfs
}

// Value is the sample of name whose labels are exactly labels (name, value
// pairs); ok is false when there is none. A family that is neither a
// counter nor a gauge fails t: exoroster writes no other.
func Value(t testing.TB, mfs map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		for _, lp := range m.GetLabel() {
			if want[lp.GetName()] != lp.GetValue() {
				continue next
			}
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		}
		t.Fatalf("%s has type %v", name, mf.GetType())
	}
	return 0, false
}
