package config

import (
	"testing"

	"github.com/exoroster/exoroster/webrtc"
)

// config show prints the URL a webrtc profile will use: its own, or the
// WebRTC API's, marked as the default.
func TestLinesShowTheWebRTCBaseURL(t *testing.T) {
	tests := []struct {
		name    string
		profile string
		want    Line
	}{
		{"default", "", Line{"base_url", webrtc.DefaultBaseURL, "default"}},
		{"set", "base_url = \"https://webrtc.example.com\"\n", Line{"base_url", "https://webrtc.example.com", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeConfig(t, t.TempDir(), "[profiles.soft]\ntarget = \"webrtc\"\ncustomer_id = \"c\"\napp_id = \"a\"\n"+tc.profile)
			s, err := Resolve(Input{Flags: Flags{Config: cfg, Profile: "soft"}, Defaults: StandardDefaults(), Getenv: envOf(nil)})
			if err != nil {
				t.Fatal(err)
			}
			lines, _ := s.Lines()
			for _, l := range lines {
				if l.Key != "base_url" {
					continue
				}
				if l.Value != tc.want.Value || (tc.want.From != "" && l.From != tc.want.From) {
					t.Errorf("base_url line %+v, want %+v", l, tc.want)
				}
				return
			}
			t.Errorf("no base_url line in %+v", lines)
		})
	}
}
