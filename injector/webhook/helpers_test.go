package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/boanu/kab/injector/config"
)

const (
	seedPod   = "../mutation/testdata/seed-example.pod.yaml"
	seedGold  = "../mutation/testdata/seed-example.golden.yaml"
	deniedPod = "../mutation/testdata/bad-typo-key.pod.yaml"
	plainPod  = "../mutation/testdata/no-annotations.pod.yaml"
)

func testConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg, err := config.Load("../mutation/testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestHandler(t testing.TB) http.Handler {
	t.Helper()
	h, err := NewHandler(testConfig(t), quietLog(), NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// reviewBody is an AdmissionReview for a pod CREATE, as the API server sends it.
func reviewBody(t testing.TB, pod []byte, mutate func(*admissionv1.AdmissionRequest)) []byte {
	t.Helper()
	req := &admissionv1.AdmissionRequest{
		UID:       "0f5a7d0e-8b1c-4a55-9d7e-3c1f2b6a9e01",
		Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
		Namespace: "apps",
		Operation: admissionv1.Create,
		Object:    runtime.RawExtension{Raw: pod},
	}
	if mutate != nil {
		mutate(req)
	}
	body, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func post(t testing.TB, h http.Handler, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/mutate", bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decodeResponse(t testing.TB, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		t.Fatalf("answer is not an AdmissionReview: %v\n%s", err, body)
	}
	if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" || review.Response == nil {
		t.Fatalf("answer is not an AdmissionReview v1 with a response: %s", body)
	}
	return review.Response
}
