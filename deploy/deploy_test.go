package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	k8syaml "sigs.k8s.io/yaml"

	"github.com/authgate/authgate/auth"
	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/policy"
)

// traefikMiddleware is the part of Traefik's Middleware CRD the manifests
// use; it is not in k8s.io/api, so strict decoding uses this mirror.
type traefikMiddleware struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		ForwardAuth struct {
			Address                  string   `json:"address"`
			AuthRequestHeaders       []string `json:"authRequestHeaders"`
			AuthResponseHeaders      []string `json:"authResponseHeaders"`
			AuthResponseHeadersRegex string   `json:"authResponseHeadersRegex"`
			TrustForwardHeader       bool     `json:"trustForwardHeader"`
		} `json:"forwardAuth"`
	} `json:"spec"`
}

// documents splits a YAML file into its documents.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs [][]byte
	for {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			return docs
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		b, err := yaml.Marshal(&n)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
}

// manifests are the Kubernetes objects of deploy/kubernetes, strictly
// decoded: an unknown or misspelt field fails the test.
type manifests struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	configMaps  []*corev1.ConfigMap
	secrets     []*corev1.Secret
	ingresses   []*networkingv1.Ingress
	middlewares []*traefikMiddleware
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	var m manifests
	files, _ := filepath.Glob("kubernetes/*.yaml")
	more, _ := filepath.Glob("kubernetes/forward-auth/*.yaml")
	for _, f := range append(files, more...) {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		for i, doc := range documents(t, f) {
			var head struct {
				Kind string `json:"kind"`
			}
			if err := k8syaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s #%d: %v", f, i, err)
			}
			var obj any
			switch head.Kind {
			case "Deployment":
				d := &appsv1.Deployment{}
				m.deployments, obj = append(m.deployments, d), d
			case "Service":
				s := &corev1.Service{}
				m.services, obj = append(m.services, s), s
			case "ConfigMap":
				c := &corev1.ConfigMap{}
				m.configMaps, obj = append(m.configMaps, c), c
			case "Secret":
				s := &corev1.Secret{}
				m.secrets, obj = append(m.secrets, s), s
			case "Ingress":
				g := &networkingv1.Ingress{}
				m.ingresses, obj = append(m.ingresses, g), g
			case "Middleware":
				w := &traefikMiddleware{}
				m.middlewares, obj = append(m.middlewares, w), w
			default:
				t.Fatalf("%s #%d: unexpected kind %q", f, i, head.Kind)
			}
			if err := k8syaml.UnmarshalStrict(doc, obj); err != nil {
				t.Errorf("%s #%d (%s): %v", f, i, head.Kind, err)
			}
		}
	}
	return m
}

func TestKubernetesManifests(t *testing.T) {
	m := loadManifests(t)
	if len(m.deployments) != 2 || len(m.services) != 2 || len(m.ingresses) != 2 || len(m.middlewares) != 1 {
		t.Fatalf("found %d deployments, %d services, %d ingresses, %d middlewares", len(m.deployments), len(m.services), len(m.ingresses), len(m.middlewares))
	}
	known := config.Variables()
	for _, d := range m.deployments {
		spec := d.Spec.Template.Spec
		if sc := spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
			t.Errorf("%s: the pod does not set runAsNonRoot", d.Name)
		}
		for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
			where := d.Name + "/" + c.Name
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Errorf("%s: no securityContext", where)
				continue
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s: root filesystem not read-only", where)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s: privilege escalation allowed", where)
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}):
				t.Errorf("%s: capabilities not all dropped", where)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
				t.Errorf("%s: no resource requests", where)
			}
			for _, e := range c.Env {
				if strings.HasPrefix(e.Name, config.Prefix) && !slices.Contains(known, e.Name) {
					t.Errorf("%s: %s is not a variable authgate reads", where, e.Name)
				}
			}
			if c.Name == "authgate" {
				checkAuthgateContainer(t, where, c)
			}
		}
	}
	// The sidecar example: authgate is a native sidecar, the app listens on
	// loopback only, and the Service reaches authgate's port.
	app := m.deployments[0]
	if app.Name != "app" || len(app.Spec.Template.Spec.InitContainers) != 1 {
		t.Fatalf("the first deployment is %q with %d init containers", app.Name, len(app.Spec.Template.Spec.InitContainers))
	}
	sidecar := app.Spec.Template.Spec.InitContainers[0]
	if sidecar.RestartPolicy == nil || *sidecar.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Error("authgate is not a native sidecar (init container with restartPolicy: Always)")
	}
	if !strings.Contains(strings.Join(app.Spec.Template.Spec.Containers[0].Args, " "), "127.0.0.1:8080") || envOf(sidecar, "AUTHGATE_UPSTREAM") != "http://127.0.0.1:8080" {
		t.Error("the app does not listen on 127.0.0.1:8080 behind AUTHGATE_UPSTREAM")
	}
	for _, s := range m.services {
		if s.Name == "app" && s.Spec.Ports[0].TargetPort.String() != "http" {
			t.Errorf("Service app targets %s, not authgate's http port", s.Spec.Ports[0].TargetPort.String())
		}
	}
	// The files the ConfigMaps carry load as authgate would load them.
	for _, cm := range m.configMaps {
		for name, data := range cm.Data {
			p := filepath.Join(t.TempDir(), name)
			os.WriteFile(p, []byte(data), 0o600)
			var err error
			switch name {
			case "users.yaml":
				_, err = auth.LoadUsers(p)
			case "rules.yaml":
				_, err = policy.LoadRules(p)
			default:
				err = fmt.Errorf("unexpected file")
			}
			if err != nil {
				t.Errorf("ConfigMap %s, %s: %v", cm.Name, name, err)
			}
		}
	}
	for _, g := range m.ingresses {
		for k, v := range g.Annotations {
			if strings.HasSuffix(k, "/auth-url") && !strings.HasSuffix(v, ":8000/auth") {
				t.Errorf("Ingress %s: auth-url %q is not authgate's verify path", g.Name, v)
			}
		}
	}
	if fa := m.middlewares[0].Spec.ForwardAuth; !slices.Equal(fa.AuthRequestHeaders, []string{"Authorization", "Cookie", "Accept"}) || fa.AuthResponseHeadersRegex != "(?i)^x[-_.]auth[-_.]" {
		t.Errorf("Traefik middleware %+v differs from deploy/traefik/dynamic.yaml", fa)
	}
}

func checkAuthgateContainer(t *testing.T, where string, c corev1.Container) {
	t.Helper()
	if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port.String() != "admin" {
		t.Errorf("%s: liveness is not /healthz on the admin port", where)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port.String() != "admin" {
		t.Errorf("%s: readiness is not /readyz on the admin port", where)
	}
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name+"="+e.Value)
	}
	if _, err := config.Load(env); err != nil {
		t.Errorf("%s: its environment does not load: %v", where, err)
	}
	// A subPath mount is a copy that the kubelet never updates: authgate
	// would not see a changed ConfigMap or Secret, so reload would not work.
	for _, m := range c.VolumeMounts {
		if m.SubPath != "" || m.SubPathExpr != "" {
			t.Errorf("%s: volume %s is mounted with subPath; mount the directory so that updates reach authgate", where, m.Name)
		}
	}
}

func envOf(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// TestKustomization builds deploy/kubernetes with kustomize, as
// kubectl apply -k would.
func TestKustomization(t *testing.T) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(filesys.MakeFsOnDisk(), "kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range res.Resources() {
		kinds = append(kinds, r.GetKind()+"/"+r.GetName())
		if r.GetLabels()["app.kubernetes.io/part-of"] != "authgate-example" {
			t.Errorf("%s/%s lacks the kustomization's label", r.GetKind(), r.GetName())
		}
	}
	slices.Sort(kinds)
	want := []string{"ConfigMap/authgate-config", "Deployment/app", "Secret/authgate-signing-key", "Service/app"}
	if !slices.Equal(kinds, want) {
		t.Errorf("kustomize built %v, want %v", kinds, want)
	}
}

// TestComposeFiles runs docker-compose config on each compose file (no
// engine needed) and checks the variables they set.
func TestComposeFiles(t *testing.T) {
	files, _ := filepath.Glob("compose/compose*.yaml")
	if len(files) != 4 {
		t.Fatalf("found %v", files)
	}
	bin, err := exec.LookPath("docker-compose")
	if err != nil {
		if os.Getenv("AUTHGATE_REQUIRE_COMPOSE") != "" {
			t.Fatalf("docker-compose is required: %v", err)
		}
		t.Skipf("docker-compose is not installed (apt-get install -y docker-compose): %v", err)
	}
	known := config.Variables()
	replicas := map[string][]string{} // file → each authgate service's AUTHGATE_REDIS_URL
	for _, f := range files {
		cmd := exec.Command(bin, "-f", f, "config")
		cmd.Env = append(os.Environ(), "AUTHGATE_JWT_SECRET=compose-test-secret-0123456789abcdef")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("docker-compose -f %s config: %v\n%s", f, err, out)
			continue
		}
		var doc struct {
			Services map[string]struct {
				Environment map[string]string `yaml:"environment"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(out, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for name, svc := range doc.Services {
			var env []string
			for k, v := range svc.Environment {
				if strings.HasPrefix(k, config.Prefix) {
					if !slices.Contains(known, k) {
						t.Errorf("%s: service %s sets %s, which authgate does not read", f, name, k)
					}
					env = append(env, k+"="+v)
				}
			}
			if strings.HasPrefix(name, "authgate") {
				c, err := config.Load(env)
				if err != nil {
					t.Errorf("%s: %s's environment does not load: %v", f, name, err)
				}
				replicas[f] = append(replicas[f], c.RedisURL)
			}
		}
	}
	// Replicas share their state: every authgate of a file with several
	// uses one Redis, which the file runs.
	for f, urls := range replicas {
		if len(urls) < 2 {
			continue
		}
		for _, u := range urls {
			if u != "redis://redis:6379/0" {
				t.Errorf("%s: %d replicas, and one has AUTHGATE_REDIS_URL %q, not the file's redis service", f, len(urls), u)
			}
		}
	}
	if len(replicas["compose/compose.replicas.yaml"]) != 2 {
		t.Errorf("compose.replicas.yaml runs %d authgate replicas, want 2", len(replicas["compose/compose.replicas.yaml"]))
	}
	if _, err := auth.LoadUsers("compose/users.yaml"); err != nil {
		t.Errorf("compose/users.yaml: %v", err)
	}
}
