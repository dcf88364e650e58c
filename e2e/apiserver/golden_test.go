//go:build integration

package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wI2L/jsondiff"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// TestGoldenPodsThroughAPIServer creates every golden input pod of injector/mutation through
// the API server with the injector registered from deploy/base. An allowed pod must be stored
// exactly as its golden output would be stored: the golden output is itself sent through the
// same API server (a server-side dry-run in a namespace the webhook excludes) so that both get
// the API server's defaults (imagePullPolicy, terminationMessagePath, dnsPolicy, …), and the two
// stored pods are compared whole. That also proves the API server's validation accepts the
// mutated pod. A denied pod must fail with the injector's message as the client sees it.
func TestGoldenPodsThroughAPIServer(t *testing.T) {
	e := setup(t)
	inputs, err := filepath.Glob(filepath.Join(mutationTestdir, "*.pod.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs in %s: %v", mutationTestdir, err)
	}

	// Cases that override the injector config need an injector of their own.
	byConfig := map[string][]string{}
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".pod.yaml")
		cfg := filepath.Join(mutationTestdir, name+".config.yaml")
		if _, err := os.Stat(cfg); err != nil {
			cfg = filepath.Join(mutationTestdir, "config.yaml")
		}
		byConfig[cfg] = append(byConfig[cfg], name)
	}
	configs := make([]string, 0, len(byConfig))
	for cfg := range byConfig {
		configs = append(configs, cfg)
	}
	slices.Sort(configs)

	for _, cfgPath := range configs {
		inj := startInjector(t, loadConfig(t, cfgPath), e.servingCertificate(t), 0)
		e.registerWebhook(t, inj.port, e.webhookCA.CertPEM)
		e.waitUntilCalled(t, inj)
		for _, name := range byConfig[cfgPath] {
			t.Run(name, func(t *testing.T) { e.checkGoldenCase(t, name) })
		}
		inj.stop()
	}
}

func (e *env) checkGoldenCase(t *testing.T, name string) {
	ctx := context.Background()
	ns := e.newNamespace(t, "golden-"+name, nil)
	input := podJSON(t, filepath.Join(mutationTestdir, name+".pod.yaml"), ns)
	created, createErr := e.admin.CoreV1().RESTClient().Post().
		Namespace(ns).Resource("pods").Body(input).Do(ctx).Get()

	if denial, err := os.ReadFile(filepath.Join(mutationTestdir, name+".error.golden")); err == nil {
		webhookName := e.manifest.Webhook.Webhooks[0].Name
		want := fmt.Sprintf("admission webhook %q denied the request: %s", webhookName, strings.TrimSuffix(string(denial), "\n"))
		if createErr == nil {
			t.Fatalf("pod admitted, want denial %q", want)
		}
		status, ok := createErr.(apierrors.APIStatus)
		if !ok {
			t.Fatalf("create failed without an API status: %v", createErr)
		}
		if got := status.Status().Message; got != want {
			t.Errorf("denial message as the client sees it:\n got: %s\nwant: %s", got, want)
		}
		if !apierrors.IsForbidden(createErr) {
			t.Errorf("denial code %d, want 403 Forbidden", status.Status().Code)
		}
		assertNotStored(t, e, ns, podName(t, input))
		return
	}

	if createErr != nil {
		t.Fatalf("create through the API server: %v", createErr)
	}
	stored, ok := created.(*corev1.Pod)
	if !ok {
		t.Fatalf("create returned %T, want a pod", created)
	}

	// The golden output, stored by the same API server without the webhook (kube-system is
	// excluded by the manifest's namespaceSelector): the same defaulting and validation.
	golden := podJSON(t, filepath.Join(mutationTestdir, name+".golden.yaml"), metav1.NamespaceSystem)
	defaulted, err := e.admin.CoreV1().RESTClient().Post().
		Namespace(metav1.NamespaceSystem).Resource("pods").Param("dryRun", metav1.DryRunAll).
		Body(golden).Do(ctx).Get()
	if err != nil {
		t.Fatalf("the API server rejects the golden output itself (dry-run in %s): %v", metav1.NamespaceSystem, err)
	}
	want := normalize(t, defaulted.(*corev1.Pod))
	got := normalize(t, stored)
	if string(got) != string(want) {
		diff, err := jsondiff.CompareJSON(want, got)
		if err != nil {
			t.Fatalf("diff: %v", err)
		}
		t.Fatalf("stored pod differs from the golden output after the API server's defaulting\nJSON patch golden→stored:\n%s\nstored pod:\n%s", diffString(diff), toYAML(stored))
	}
}

// podJSON reads a pod YAML file as JSON, placed in namespace. The raw JSON is sent, not a Go
// struct: a field unknown to this build's types reaches the API server as the user wrote it.
func podJSON(t *testing.T, path, namespace string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var pod map[string]any
	if err := yaml.Unmarshal(data, &pod); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	meta, _ := pod["metadata"].(map[string]any)
	if meta == nil {
		t.Fatalf("%s has no metadata", path)
	}
	meta["namespace"] = namespace
	out, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func podName(t *testing.T, podJSON []byte) string {
	t.Helper()
	var pod metav1.PartialObjectMetadata
	if err := json.Unmarshal(podJSON, &pod); err != nil {
		t.Fatal(err)
	}
	return pod.Name
}

// normalize drops what differs between any two stored pods (identity, namespace, timestamps,
// field managers) and nothing else.
func normalize(t *testing.T, pod *corev1.Pod) []byte {
	t.Helper()
	p := pod.DeepCopy()
	p.Namespace = ""
	p.UID = ""
	p.ResourceVersion = ""
	p.CreationTimestamp = metav1.Time{}
	p.ManagedFields = nil
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffString(p jsondiff.Patch) string {
	var b strings.Builder
	for _, op := range p {
		b.WriteString(op.String())
		b.WriteByte('\n')
	}
	return b.String()
}

func assertNotStored(t *testing.T, e *env, namespace, name string) {
	t.Helper()
	_, err := e.admin.CoreV1().Pods(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("pod %s/%s was stored (get: %v); a denied or failed admission must store nothing", namespace, name, err)
	}
}
