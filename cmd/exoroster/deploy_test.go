package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// containerArgs finds, anywhere in a manifest, the args of every container
// that runs exoroster's image.
func containerArgs(node any) [][]string {
	var out [][]string
	switch n := node.(type) {
	case map[string]any:
		if image, _ := n["image"].(string); strings.HasPrefix(image, "exoroster/") {
			var args []string
			list, _ := n["args"].([]any)
			for _, a := range list {
				s, _ := a.(string)
				args = append(args, s)
			}
			out = append(out, args)
		}
		for _, v := range n {
			out = append(out, containerArgs(v)...)
		}
	case []any:
		for _, v := range n {
			out = append(out, containerArgs(v)...)
		}
	}
	return out
}

// The Kubernetes manifests run commands and flags that exist, spelled as
// the commands define them: a misspelt flag there would fail every night
// with exit 2, far from anyone watching.
func TestDeployManifestsUseRealFlags(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	runs := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, args := range containerArgs(doc) {
			runs++
			root := (&app{env: Env{Stdout: &strings.Builder{}, Stderr: &strings.Builder{}}}).rootCommand()
			cmd, rest, err := root.Find(args)
			if err != nil || len(args) == 0 || cmd.Name() != args[0] {
				t.Errorf("%s: %v does not name a command (%v)", filepath.Base(f), args, err)
				continue
			}
			if err := cmd.ParseFlags(rest); err != nil {
				t.Errorf("%s: %s %v: %v", filepath.Base(f), cmd.Name(), rest, err)
			}
			if extra := cmd.Flags().Args(); len(extra) > 0 {
				t.Errorf("%s: %s takes no arguments beside its flags, got %v", filepath.Base(f), cmd.Name(), extra)
			}
		}
	}
	if runs == 0 {
		t.Error("no container runs exoroster's image")
	}
}
