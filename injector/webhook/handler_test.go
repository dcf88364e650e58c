package webhook

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/boanu/kab/injector/internal/podcase"
)

func TestMutateAnswers(t *testing.T) {
	h := newTestHandler(t)
	seed := podcase.JSON(t, seedPod)
	tests := []struct {
		name        string
		body        []byte
		wantAllowed bool
		wantPatch   bool
		wantCode    int32
		wantMessage string
	}{
		{name: "seed pod is injected", body: reviewBody(t, seed, nil), wantAllowed: true, wantPatch: true},
		{name: "bad annotation is denied", body: reviewBody(t, podcase.JSON(t, deniedPod), nil),
			wantCode: http.StatusForbidden, wantMessage: "did you mean kab.boa.nu/backup-schedule?"},
		{name: "pod without kab annotations passes", body: reviewBody(t, podcase.JSON(t, plainPod), nil), wantAllowed: true},
		{name: "UPDATE passes", body: reviewBody(t, seed, func(r *admissionv1.AdmissionRequest) { r.Operation = admissionv1.Update }), wantAllowed: true},
		{name: "other resource passes", body: reviewBody(t, seed, func(r *admissionv1.AdmissionRequest) {
			r.Resource = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
		}), wantAllowed: true},
		{name: "pod subresource passes", body: reviewBody(t, seed, func(r *admissionv1.AdmissionRequest) { r.SubResource = "ephemeralcontainers" }), wantAllowed: true},
		{name: "undecodable pod is refused", body: reviewBody(t, []byte(`{"spec":{"containers":"nope"}}`), nil),
			wantCode: http.StatusBadRequest, wantMessage: "cannot read the pod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := post(t, h, "application/json", tt.body)
			if w.Code != http.StatusOK {
				t.Fatalf("HTTP %d: %s", w.Code, w.Body)
			}
			resp := decodeResponse(t, w.Body.Bytes())
			if resp.UID != "0f5a7d0e-8b1c-4a55-9d7e-3c1f2b6a9e01" {
				t.Errorf("uid %q not echoed", resp.UID)
			}
			if resp.Allowed != tt.wantAllowed || (resp.Patch != nil) != tt.wantPatch {
				t.Fatalf("allowed %v patch %s, want allowed %v patch %v", resp.Allowed, resp.Patch, tt.wantAllowed, tt.wantPatch)
			}
			if tt.wantPatch && (resp.PatchType == nil || *resp.PatchType != admissionv1.PatchTypeJSONPatch) {
				t.Errorf("patchType %v, want JSONPatch", resp.PatchType)
			}
			if tt.wantCode != 0 {
				if resp.Result == nil || resp.Result.Code != tt.wantCode || !strings.Contains(resp.Result.Message, tt.wantMessage) {
					t.Fatalf("result %+v, want code %d with %q", resp.Result, tt.wantCode, tt.wantMessage)
				}
			}
		})
	}
}

// TestMutatePatchGivesTheGoldenPod: the answer's patch, applied to the raw pod, is the pod the
// mutation's golden test pins — the HTTP layer adds and loses nothing.
func TestMutatePatchGivesTheGoldenPod(t *testing.T) {
	resp := decodeResponse(t, post(t, newTestHandler(t), "application/json", reviewBody(t, podcase.JSON(t, seedPod), nil)).Body.Bytes())
	checkPatchedIsGolden(t, resp.Patch)
}

func checkPatchedIsGolden(t *testing.T, ops []byte) {
	t.Helper()
	p, err := jsonpatch.DecodePatch(ops)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := p.Apply(podcase.JSON(t, seedPod))
	if err != nil {
		t.Fatal(err)
	}
	got, err := yaml.JSONToYAML(patched)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(seedGold)
	if err != nil {
		t.Fatal(err)
	}
	want = want[bytes.IndexByte(want, '\n')+1:] // the golden's "# outcome" line
	if !bytes.Equal(got, want) {
		t.Fatalf("patched pod differs from %s\n--- got\n%s", seedGold, got)
	}
}

func TestMutateRejectsBadRequests(t *testing.T) {
	h := newTestHandler(t)
	seed := podcase.JSON(t, seedPod)
	tests := []struct {
		name, contentType string
		body              []byte
		want              int
	}{
		{"wrong content type", "text/plain", reviewBody(t, seed, nil), http.StatusUnsupportedMediaType},
		{"no content type", "", reviewBody(t, seed, nil), http.StatusUnsupportedMediaType},
		{"content type with charset is fine", "application/json; charset=utf-8", reviewBody(t, seed, nil), http.StatusOK},
		{"too large", "application/json", bytes.Repeat([]byte(" "), MaxBodyBytes+1), http.StatusRequestEntityTooLarge},
		{"not JSON", "application/json", []byte("{"), http.StatusBadRequest},
		{"v1beta1 review", "application/json", bytes.Replace(reviewBody(t, seed, nil), []byte("admission.k8s.io/v1"), []byte("admission.k8s.io/v1beta1"), 1), http.StatusBadRequest},
		{"no request", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), http.StatusBadRequest},
		{"no uid", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{}}`), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := post(t, h, tt.contentType, tt.body); w.Code != tt.want {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tt.want, w.Body)
			}
		})
	}
	t.Run("GET is not allowed", func(t *testing.T) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/mutate", nil))
		if w.Code != http.StatusMethodNotAllowed {
			t.Fatalf("HTTP %d, want 405", w.Code)
		}
	})
}

func TestMetricsCountResults(t *testing.T) {
	h := newTestHandler(t)
	post(t, h, "application/json", reviewBody(t, podcase.JSON(t, seedPod), nil))
	post(t, h, "application/json", reviewBody(t, podcase.JSON(t, seedPod), nil))
	post(t, h, "application/json", reviewBody(t, podcase.JSON(t, deniedPod), nil))
	post(t, h, "application/json", reviewBody(t, podcase.JSON(t, plainPod), nil))
	post(t, h, "text/plain", nil)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := w.Body.String()
	for _, want := range []string{
		`kab_injector_admissions_total{result="injected"} 2`,
		`kab_injector_admissions_total{result="denied"} 1`,
		`kab_injector_admissions_total{result="skipped"} 1`,
		`kab_injector_admissions_total{result="error"} 1`,
		`kab_injector_admission_duration_seconds_count 5`,
		`go_goroutines `,
		`process_cpu_seconds_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestHealthEndpoints(t *testing.T) {
	h := newTestHandler(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("%s: HTTP %d", path, w.Code)
		}
	}
}

func TestNewHandlerRefusesARegistryTwice(t *testing.T) {
	reg := NewRegistry()
	if _, err := NewHandler(testConfig(t), quietLog(), reg); err != nil {
		t.Fatal(err)
	}
	if _, err := NewHandler(testConfig(t), quietLog(), reg); err == nil {
		t.Fatal("second NewHandler on the same registry registered duplicate metrics")
	}
}
