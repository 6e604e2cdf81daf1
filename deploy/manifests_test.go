// Package deploy holds the container and Kubernetes files; its test checks
// that the manifests hold what running exoroster safely needs.
package deploy

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/exoroster/exoroster/config"
)

// The parts of Kubernetes objects the checks read (sigs.k8s.io/yaml decodes
// through JSON, so json tags name the fields).
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
	Spec struct {
		// CronJob
		ConcurrencyPolicy       string `json:"concurrencyPolicy"`
		StartingDeadlineSeconds *int   `json:"startingDeadlineSeconds"`
		JobTemplate             struct {
			Spec jobSpec `json:"spec"`
		} `json:"jobTemplate"`
		// Job and Deployment
		jobSpec
		// Kustomization
	} `json:"spec"`
	Resources  []string `json:"resources"`
	StringData any      `json:"stringData"`
}

type jobSpec struct {
	CompletionMode   string      `json:"completionMode"`
	Completions      *int        `json:"completions"`
	Template         podTemplate `json:"template"`
	BackoffLimit     *int        `json:"backoffLimit"`
	PodFailurePolicy *struct {
		Rules []struct {
			Action      string `json:"action"`
			OnExitCodes *struct {
				ContainerName string `json:"containerName"`
				Operator      string `json:"operator"`
				Values        []int  `json:"values"`
			} `json:"onExitCodes"`
		} `json:"rules"`
	} `json:"podFailurePolicy"`
}

type podTemplate struct {
	Spec podSpec `json:"spec"`
}

type podSpec struct {
	RestartPolicy   string `json:"restartPolicy"`
	SecurityContext struct {
		RunAsNonRoot *bool `json:"runAsNonRoot"`
		RunAsUser    *int  `json:"runAsUser"`
	} `json:"securityContext"`
	Containers []container `json:"containers"`
	Volumes    []volume    `json:"volumes"`
}

type container struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args"`
	Env   []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		ValueFrom *struct {
			FieldRef *struct {
				FieldPath string `json:"fieldPath"`
			} `json:"fieldRef"`
			SecretKeyRef *struct {
				Name string `json:"name"`
				Key  string `json:"key"`
			} `json:"secretKeyRef"`
		} `json:"valueFrom"`
	} `json:"env"`
	VolumeMounts []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
		ReadOnly  bool   `json:"readOnly"`
	} `json:"volumeMounts"`
	SecurityContext struct {
		AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   bool  `json:"readOnlyRootFilesystem"`
	} `json:"securityContext"`
}

type volume struct {
	Name   string `json:"name"`
	Secret *struct {
		SecretName string `json:"secretName"`
		Items      []struct {
			Key  string `json:"key"`
			Path string `json:"path"`
		} `json:"items"`
	} `json:"secret"`
	PersistentVolumeClaim *struct {
		ClaimName string `json:"claimName"`
	} `json:"persistentVolumeClaim"`
	ConfigMap *struct {
		Name string `json:"name"`
	} `json:"configMap"`
}

const manifestDir = "kubernetes"

// load parses every manifest, by file name.
func load(t *testing.T) map[string]object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(manifestDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", manifestDir, err)
	}
	out := map[string]object{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "\n---") {
			t.Fatalf("%s: keep one object per file", f)
		}
		var o object
		if err := yaml.Unmarshal(data, &o); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if o.APIVersion == "" || o.Kind == "" {
			t.Fatalf("%s: no apiVersion or kind", f)
		}
		out[filepath.Base(f)] = o
	}
	return out
}

func byKind(t *testing.T, objs map[string]object, kind string) object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind {
			return o
		}
	}
	t.Fatalf("no %s manifest", kind)
	return object{}
}

// The image `make image` builds, pushed under a version tag.
var imageRE = regexp.MustCompile(`^exoroster/exoroster:[0-9][0-9A-Za-z.\-]*$`)

func exorosterContainer(t *testing.T, name string, pod podSpec) container {
	t.Helper()
	for _, c := range pod.Containers {
		if c.Name == "exoroster" {
			return c
		}
	}
	t.Fatalf("%s: no container named exoroster", name)
	return container{}
}

// checkPod holds what every exoroster pod must: a pinned image, non-root,
// no privilege, and the data volume on the claim.
func checkPod(t *testing.T, name string, pod podSpec) container {
	t.Helper()
	c := exorosterContainer(t, name, pod)
	if !imageRE.MatchString(c.Image) {
		t.Errorf("%s: image %q is not exoroster/exoroster at a version tag", name, c.Image)
	}
	if sc := pod.SecurityContext; sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: the pod must set runAsNonRoot: true and a non-zero runAsUser", name)
	}
	if p := c.SecurityContext.AllowPrivilegeEscalation; p == nil || *p || !c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("%s: the container must forbid privilege escalation and keep its root file system read-only", name)
	}
	if pod.RestartPolicy != "Never" {
		t.Errorf("%s: restartPolicy %q: a failed run is retried by the Job, with a new pod, not restarted in place", name, pod.RestartPolicy)
	}
	if len(c.Args) == 0 || c.Args[0] != "export" {
		t.Errorf("%s: args %v: want the export command", name, c.Args)
	}
	out := argValue(c.Args, "--out")
	if !onVolume(out, c, pod, isClaim) {
		t.Errorf("%s: --out %q is not on the data volume", name, out)
	}
	if m := argValue(c.Args, "--metrics-file"); !onVolume(m, c, pod, isClaim) || path.Dir(m) != "/data/metrics" {
		t.Errorf("%s: --metrics-file %q is not in /data/metrics on the data volume, where the metrics reader looks", name, m)
	}
	// A cluster ships pod logs to a collector: every line one JSON object
	// naming the run and the account.
	if f := argValue(c.Args, "--log-format"); f != "json" {
		t.Errorf("%s: --log-format %q: a cluster's log collector wants --log-format=json", name, f)
	}
	if s := envValue(c, "XDG_STATE_HOME"); !onVolume(s, c, pod, isClaim) {
		t.Errorf("%s: the state directory (XDG_STATE_HOME %q) is not on the data volume: a run lock must outlive the pod's file system", name, s)
	}
	checkNoTokenValues(t, name, c)
	return c
}

// checkNoTokenValues: a token may reach a container only as a file.
func checkNoTokenValues(t *testing.T, name string, c container) {
	t.Helper()
	for _, e := range c.Env {
		if strings.Contains(e.Name, "TOKEN") && !strings.HasSuffix(e.Name, "_FILE") {
			t.Errorf("%s: env %s puts a token in the environment; mount it as a file and name it with %s_FILE", name, e.Name, e.Name)
		}
	}
	for _, a := range c.Args {
		if strings.Contains(strings.ToLower(a), "token") {
			t.Errorf("%s: argument %q mentions a token; arguments are visible to every process on the node", name, a)
		}
	}
}

func argValue(args []string, flag string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v
		}
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func envValue(c container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func isClaim(v volume) bool {
	return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "exoroster-data"
}
func isSecret(v volume) bool { return v.Secret != nil }

// onVolume reports whether p lies under one of c's mounts whose volume
// passes is.
func onVolume(p string, c container, pod podSpec, is func(volume) bool) bool {
	if p == "" {
		return false
	}
	for _, m := range c.VolumeMounts {
		if p != m.MountPath && !strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && is(v) {
				return true
			}
		}
	}
	return false
}

func TestCronJob(t *testing.T) {
	cj := byKind(t, load(t), "CronJob")
	if cj.Spec.ConcurrencyPolicy != "Forbid" {
		t.Errorf("concurrencyPolicy %q: a run still going must not be joined by a second one against the same account", cj.Spec.ConcurrencyPolicy)
	}
	if d := cj.Spec.StartingDeadlineSeconds; d == nil || *d <= 0 {
		t.Error("startingDeadlineSeconds is missing: a long outage would start a run at any hour")
	}
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	c := checkPod(t, "cronjob", pod)
	tokenFile := envValue(c, "EXOTEL_API_TOKEN_FILE")
	if !onVolume(tokenFile, c, pod, isSecret) {
		t.Errorf("EXOTEL_API_TOKEN_FILE %q is not a file of a mounted Secret", tokenFile)
	}
	for _, m := range c.VolumeMounts {
		if strings.HasPrefix(tokenFile, m.MountPath+"/") && !m.ReadOnly {
			t.Errorf("the Secret is mounted writable at %s", m.MountPath)
		}
	}

	// The nightly run audits its report against last night's, on the claim.
	out, against := argValue(c.Args, "--out"), argValue(c.Args, "--against")
	if against != out {
		t.Errorf("--against %q: the nightly audit compares with last night's report, --out %q", against, out)
	}
	if h := argValue(c.Args, "--html"); !onVolume(h, c, pod, isClaim) {
		t.Errorf("--html %q is not on the data volume", h)
	}
	// Findings (exit 5) must not be retried: the retry would compare the
	// new report with itself, and a role escalation would vanish.
	if argValue(c.Args, "--fail-on") != "" {
		spec := cj.Spec.JobTemplate.Spec
		failsOn5 := false
		if p := spec.PodFailurePolicy; p != nil {
			for _, r := range p.Rules {
				e := r.OnExitCodes
				failsOn5 = failsOn5 || (r.Action == "FailJob" && e != nil && e.Operator == "In" &&
					e.ContainerName == c.Name && slices.Contains(e.Values, 5))
			}
		}
		if spec.BackoffLimit != nil && *spec.BackoffLimit > 0 && !failsOn5 {
			t.Error("--fail-on with retries: add a podFailurePolicy rule that fails the Job on exit code 5")
		}
	}
}

func TestIndexedJob(t *testing.T) {
	objs := load(t)
	job := byKind(t, objs, "Job")
	spec := job.Spec.jobSpec
	if spec.CompletionMode != "Indexed" {
		t.Errorf("completionMode %q, want Indexed: one pod per account", spec.CompletionMode)
	}
	pod := spec.Template.Spec
	c := checkPod(t, "indexed job", pod)
	if out := argValue(c.Args, "--out"); !strings.Contains(out, "{profile}") {
		t.Errorf("--out %q: each account's pod must write its own report, so the template needs {profile}", out)
	}

	// The index reaches exoroster without a shell, from the pod's annotation.
	var fromIndex bool
	for _, e := range c.Env {
		if e.Name == config.EnvProfileIndex && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			fromIndex = true
		}
	}
	if !fromIndex {
		t.Errorf("%s is not taken from the completion-index annotation", config.EnvProfileIndex)
	}

	// The config file it reads is the ConfigMap's, and it is a valid one
	// (which also means no literal token in it).
	cfgPath := envValue(c, config.EnvConfig)
	cm := byKind(t, objs, "ConfigMap")
	if !onVolume(cfgPath, c, pod, func(v volume) bool { return v.ConfigMap != nil && v.ConfigMap.Name == cm.Metadata.Name }) {
		t.Fatalf("%s %q is not on the %s ConfigMap's volume", config.EnvConfig, cfgPath, cm.Metadata.Name)
	}
	file, err := config.Parse("configmap.yaml", []byte(cm.Data[path.Base(cfgPath)]))
	if err != nil {
		t.Fatalf("the ConfigMap's config file: %v", err)
	}
	if spec.Completions == nil || *spec.Completions != len(file.ProfileIndex) {
		got := "none"
		if spec.Completions != nil {
			got = strconv.Itoa(*spec.Completions)
		}
		t.Errorf("completions %s, but profile_index lists %d profiles: every account needs its pod, every pod an account", got, len(file.ProfileIndex))
	}
	var tokenVol *volume
	for i, v := range pod.Volumes {
		if v.Secret != nil {
			tokenVol = &pod.Volumes[i]
		}
	}
	if tokenVol == nil {
		t.Fatal("no Secret volume for the tokens")
	}
	for _, name := range file.ProfileIndex {
		p := file.Profiles[name]
		if !onVolume(p.APITokenFile, c, pod, isSecret) {
			t.Errorf("profile %s: api_token_file %q is not a file of the mounted Secret", name, p.APITokenFile)
		}
		if len(tokenVol.Secret.Items) > 0 && !slices.ContainsFunc(tokenVol.Secret.Items, func(it struct {
			Key  string `json:"key"`
			Path string `json:"path"`
		}) bool {
			return it.Path == path.Base(p.APITokenFile)
		}) {
			t.Errorf("profile %s: the Secret volume's items do not include %s", name, path.Base(p.APITokenFile))
		}
	}
}

func TestMetricsReaderReadsWhatRunsWrite(t *testing.T) {
	d := byKind(t, load(t), "Deployment")
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("metrics deployment: %d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	dir := ""
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--collector.textfile.directory="); ok {
			dir = v
		}
	}
	if dir != "/data/metrics" || !onVolume(dir, c, pod, isClaim) {
		t.Errorf("node_exporter's textfile directory %q is not /data/metrics on the data claim", dir)
	}
	if sc := pod.SecurityContext; sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("the metrics reader must run as non-root")
	}
}

func TestNoSecretInManifests(t *testing.T) {
	objs := load(t)
	for name, o := range objs {
		if o.Kind == "Secret" || o.StringData != nil {
			t.Errorf("%s: a Secret belongs in the cluster (kubectl create secret), not in the repository", name)
		}
	}
	k := byKind(t, objs, "Kustomization")
	for name, o := range objs {
		if o.Kind != "Kustomization" && !slices.Contains(k.Resources, name) {
			t.Errorf("%s is not listed in kustomization.yaml", name)
		}
	}
}

func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	var froms []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "FROM ") {
			froms = append(froms, line)
		}
	}
	if len(froms) < 2 {
		t.Errorf("want a multi-stage build, got %d stages", len(froms))
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "distroless/static") && !strings.Contains(last, "scratch") {
		t.Errorf("runtime stage %q: want distroless static or scratch", last)
	}
	for _, want := range []string{"CGO_ENABLED=0", `ENTRYPOINT ["exoroster"]`} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	user := regexp.MustCompile(`(?m)^USER (\d+)`).FindStringSubmatch(text)
	if user == nil || user[1] == "0" {
		t.Error("Dockerfile must end as a numeric non-root USER (runAsNonRoot checks the number)")
	}
}
