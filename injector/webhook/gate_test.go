package webhook

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
)

// fakeGate stands in for tenancy: the handler's part is calling it and mapping its answer.
type fakeGate struct {
	err    error
	seen   []string // namespace/dryRun of each call
	dryRun []bool
}

func (g *fakeGate) Admit(_ context.Context, pod *corev1.Pod, dryRun bool) error {
	g.seen = append(g.seen, pod.Namespace)
	g.dryRun = append(g.dryRun, dryRun)
	return g.err
}

func handlerWithGate(t *testing.T, gate Gate) http.Handler {
	t.Helper()
	h, err := NewHandler(testConfig(t), quietLog(), NewRegistry(), WithGate(gate))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGateSeesTheRequestNamespaceAndDryRun(t *testing.T) {
	gate := &fakeGate{}
	dry := true
	w := post(t, handlerWithGate(t, gate), "application/json", reviewBody(t, podcase.JSON(t, seedPod), func(r *admissionv1.AdmissionRequest) { r.DryRun = &dry }))
	if resp := decodeResponse(t, w.Body.Bytes()); !resp.Allowed || resp.Patch == nil {
		t.Fatalf("seed pod not injected with an allowing gate: %+v", resp)
	}
	if len(gate.seen) != 1 || gate.seen[0] != "apps" || !gate.dryRun[0] {
		t.Fatalf("gate saw namespaces %v dryRun %v, want [apps] [true]", gate.seen, gate.dryRun)
	}
}

func TestGateDenialIsAForbiddenAnswer(t *testing.T) {
	gate := &fakeGate{err: &mutation.DeniedError{Problems: []error{errors.New("belongs to namespace a")}}}
	resp := decodeResponse(t, post(t, handlerWithGate(t, gate), "application/json", reviewBody(t, podcase.JSON(t, seedPod), nil)).Body.Bytes())
	if resp.Allowed || resp.Result.Code != http.StatusForbidden || !strings.Contains(resp.Result.Message, "belongs to namespace a") {
		t.Fatalf("answer %+v, want a 403 denial with the gate's message", resp.Result)
	}
}

func TestGateFailureIsAnErrorNotAnInjection(t *testing.T) {
	gate := &fakeGate{err: errors.New("connection refused")}
	resp := decodeResponse(t, post(t, handlerWithGate(t, gate), "application/json", reviewBody(t, podcase.JSON(t, seedPod), nil)).Body.Bytes())
	if resp.Allowed || resp.Result.Code != http.StatusInternalServerError || !strings.Contains(resp.Result.Message, "connection refused") {
		t.Fatalf("answer %+v, want a 500 refusal naming the cause", resp.Result)
	}
}

func TestGateNotCalledForSkippedOrDeniedPods(t *testing.T) {
	gate := &fakeGate{}
	h := handlerWithGate(t, gate)
	for _, pod := range []string{plainPod, deniedPod} {
		post(t, h, "application/json", reviewBody(t, podcase.JSON(t, pod), nil))
	}
	if len(gate.seen) != 0 {
		t.Fatalf("gate called for %v; it only checks pods kab would inject", gate.seen)
	}
}
