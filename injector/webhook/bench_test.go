package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/internal/podcase"
)

// BenchmarkHandler is one admission of the seed pod through the whole handler: read, decode,
// mutate, diff, encode.
func BenchmarkHandler(b *testing.B) {
	benchmarkAdmission(b, newTestHandler(b))
}

// BenchmarkFloorHandler is the least any admission handler does: read and decode the review
// and the pod, and answer "allowed" without a patch. The difference to BenchmarkHandler is
// what kab's mutation and diff cost.
func BenchmarkFloorHandler(b *testing.B) {
	benchmarkAdmission(b, http.HandlerFunc(floorHandler))
}

func floorHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	review, err := decodeReview(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var pod corev1.Pod
	if err := json.Unmarshal(review.Request.Object.Raw, &pod); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	// The handler's own way of writing an answer, so that only the work in between differs.
	_ = writeAnswer(w, &admissionv1.AdmissionReview{TypeMeta: review.TypeMeta,
		Response: &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}})
}

func benchmarkAdmission(b *testing.B, h http.Handler) {
	body := reviewBody(b, podcase.JSON(b, seedPod), nil)
	b.ReportAllocs()
	for b.Loop() {
		if w := post(b, h, "application/json", body); w.Code != http.StatusOK {
			b.Fatalf("HTTP %d", w.Code)
		}
	}
}

// BenchmarkHandlerOverFloor alternates one floor request and one full admission in the same
// loop and times each, so that both see the same moments of a shared machine: the ratio it
// reports does not depend on what else ran during one benchmark and not the other.
//
//	go test -run '^$' -bench HandlerOverFloor -cpu 1 -count 5 ./injector/webhook/
func BenchmarkHandlerOverFloor(b *testing.B) {
	body := reviewBody(b, podcase.JSON(b, seedPod), nil)
	handler, floor := newTestHandler(b), http.HandlerFunc(floorHandler)
	var inHandler, inFloor time.Duration
	for b.Loop() {
		start := time.Now()
		if w := post(b, floor, "application/json", body); w.Code != http.StatusOK {
			b.Fatalf("floor: HTTP %d", w.Code)
		}
		mid := time.Now()
		if w := post(b, handler, "application/json", body); w.Code != http.StatusOK {
			b.Fatalf("handler: HTTP %d", w.Code)
		}
		inFloor += mid.Sub(start)
		inHandler += time.Since(mid)
	}
	b.ReportMetric(float64(inHandler.Nanoseconds())/float64(b.N), "handler-ns/op")
	b.ReportMetric(float64(inFloor.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(inHandler)/float64(inFloor), "handler/floor")
}
