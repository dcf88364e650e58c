//go:build integration

package apiserver

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/boanu/kab/shared"
)

const testConfig = `
agentImage: kab-agent:test
volume:
  nfs: {server: nas.lan, path: /data/backup}
`

// TestOnlyKabPodsReachTheInjector: the manifest's matchConditions and namespaceSelector keep
// every other pod away from the injector, so nothing else in the cluster depends on it.
func TestOnlyKabPodsReachTheInjector(t *testing.T) {
	e := setup(t)
	inj := startInjector(t, parseConfig(t, testConfig), e.servingCertificate(t), 0)
	e.registerWebhook(t, inj.port, e.webhookCA.CertPEM)
	e.waitUntilCalled(t, inj)
	ctx := context.Background()
	ns := e.newNamespace(t, "apps", nil)
	pods := e.admin.CoreV1().Pods(ns)

	before := inj.admissions(t)
	notForKab := []*corev1.Pod{plainPod("plain")}
	// kab's prefix as a label, or inside another annotation key, is not a kab annotation.
	labelled := plainPod("kab-label-only")
	labelled.Labels = map[string]string{shared.Prefix + "backup-name": "x"}
	notForKab = append(notForKab, labelled)
	lookalike := plainPod("lookalike-annotation")
	lookalike.Annotations = map[string]string{"example.com/" + strings.TrimSuffix(shared.Prefix, "/"): "x"}
	notForKab = append(notForKab, lookalike)
	for _, pod := range notForKab {
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", pod.Name, err)
		}
	}
	// A kab pod in an excluded namespace is admitted as it is, without a call.
	excluded := kabPod("kab-in-kube-system")
	stored, err := e.admin.CoreV1().Pods(metav1.NamespaceSystem).Create(ctx, excluded, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create kab pod in %s: %v", metav1.NamespaceSystem, err)
	}
	if _, injected := stored.Annotations[shared.Prefix+shared.KeyStatus]; injected {
		t.Errorf("pod in %s was injected; the namespaceSelector must exclude it", metav1.NamespaceSystem)
	}
	if got := inj.admissions(t) - before; got != 0 {
		t.Fatalf("the injector was called %v times for pods without kab annotations or in excluded namespaces, want 0", got)
	}

	// The same counter does move for a kab pod: the zero above is not a dead metric.
	injected, err := pods.Create(ctx, kabPod("kab"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create kab pod: %v", err)
	}
	assertInjected(t, injected)
	if got := inj.admissions(t) - before; got != 1 {
		t.Fatalf("admissions after one kab pod = %v, want 1", got)
	}
}

// TestFailurePolicyFail: with the injector down a kab pod is rejected — never admitted without
// its restore and backups — while other pods are unaffected; once the injector is back, the
// same pod is admitted, injected.
func TestFailurePolicyFail(t *testing.T) {
	e := setup(t)
	getCertificate := e.servingCertificate(t)
	inj := startInjector(t, parseConfig(t, testConfig), getCertificate, 0)
	e.registerWebhook(t, inj.port, e.webhookCA.CertPEM)
	e.waitUntilCalled(t, inj)
	ctx := context.Background()
	ns := e.newNamespace(t, "apps", nil)
	pods := e.admin.CoreV1().Pods(ns)

	inj.stop()
	_, err := pods.Create(ctx, kabPod("app"), metav1.CreateOptions{})
	if err == nil {
		t.Fatal("kab pod admitted while the injector is down; failurePolicy must be Fail")
	}
	if want := `failed calling webhook "` + e.manifest.Webhook.Webhooks[0].Name + `"`; !strings.Contains(err.Error(), want) {
		t.Errorf("rejection %q does not say %s", err, want)
	}
	assertNotStored(t, e, ns, "app")
	if _, err := pods.Create(ctx, plainPod("plain"), metav1.CreateOptions{}); err != nil {
		t.Fatalf("a pod without kab annotations must not depend on the injector: %v", err)
	}

	// Back on the same port, as a restarted Deployment would be behind its Service.
	startInjector(t, parseConfig(t, testConfig), getCertificate, inj.port)
	var pod *corev1.Pod
	deadline := time.Now().Add(settleTimeout)
	for {
		pod, err = pods.Create(ctx, kabPod("app"), metav1.CreateOptions{})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(pollEvery)
	}
	if err != nil {
		t.Fatalf("kab pod still rejected with the injector back: %v", err)
	}
	assertInjected(t, pod)
}

// TestPodSecurityBaseline: in a namespace enforcing Pod Security baseline, a baseline-compliant
// app stays compliant once injected, with an NFS or a PVC backup volume. A hostPath source is
// outside baseline by definition and must be refused by Pod Security — which shows that the
// enforcement this test relies on is really on.
func TestPodSecurityBaseline(t *testing.T) {
	e := setup(t)
	getCertificate := e.servingCertificate(t)
	ns := e.newNamespace(t, "baseline", map[string]string{
		"pod-security.kubernetes.io/enforce":         "baseline",
		"pod-security.kubernetes.io/enforce-version": "latest",
	})
	ctx := context.Background()

	sources := []struct {
		name, volume string
		admitted     bool
	}{
		{"nfs", `nfs: {server: nas.lan, path: /data/backup}`, true},
		{"pvc", `persistentVolumeClaim: {claimName: kab}`, true},
		{"hostpath", `hostPath: {path: /var/lib/kab}`, false},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			cfg := parseConfig(t, "agentImage: kab-agent:test\nvolume:\n  "+src.volume+"\n")
			inj := startInjector(t, cfg, getCertificate, 0)
			e.registerWebhook(t, inj.port, e.webhookCA.CertPEM)
			e.waitUntilCalled(t, inj)
			defer inj.stop()

			pod := baselineApp("app-" + src.name)
			stored, err := e.admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
			if !src.admitted {
				if err == nil || !strings.Contains(err.Error(), `violates PodSecurity "baseline:latest"`) {
					t.Fatalf("pod with a hostPath backup volume in a baseline namespace: err = %v, want a Pod Security violation", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("baseline-compliant app, injected, rejected: %v", err)
			}
			assertInjected(t, stored)
			var restore bool
			for _, c := range stored.Spec.InitContainers {
				restore = restore || c.Name == "kab-restore"
			}
			if !restore {
				t.Error("injected pod has no kab-restore init container")
			}
			if stored.Spec.ShareProcessNamespace == nil || !*stored.Spec.ShareProcessNamespace {
				t.Error("injected pod does not share its process namespace")
			}
		})
	}
}

// baselineApp is an ordinary app that satisfies Pod Security baseline (and not restricted):
// default capabilities, root allowed, an emptyDir for its data.
func baselineApp(name string) *corev1.Pod {
	pod := kabPod(name)
	pod.Annotations[shared.Prefix+shared.KeyBackupSchedule] = "15m"
	pod.Spec.Containers[0].Command = []string{"sh", "-c", "sleep 3600"}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	pod.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	return pod
}
