package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/boanu/kab/injector/certfile"
	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/internal/testcert"
)

// mangledCount is how many bodies TestMangledReviewsOverTLS sends: 1,000 in `make test` (the
// race detector makes each huge body slow), KAB_MANGLED_COUNT=10000 for docs/RELIABILITY.md.
func mangledCount(t *testing.T) int {
	n := 1_000
	if v := os.Getenv("KAB_MANGLED_COUNT"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			t.Fatalf("KAB_MANGLED_COUNT=%q: want a whole number of requests, at least 10", v)
		}
	}
	return n
}

// TestMangledReviewsOverTLS sends mangled AdmissionReviews to the real TLS server: the
// fuzz seeds with bit flips, truncations and spliced garbage, pods with huge and deeply nested
// objects, and bodies past the size cap. Every answer must be a well-formed AdmissionReview
// echoing the uid (200) or a client error (4xx); the server must stay up; and the heap after
// the run must be near the heap before it (nothing a bad body makes the injector keep).
func TestMangledReviewsOverTLS(t *testing.T) {
	url, client := startTLSServer(t)
	seeds := mangleSeeds(t)
	count := mangledCount(t)
	rng := rand.New(rand.NewPCG(16, 2026)) // fixed: a failure names a body that can be rebuilt
	bodies := make(chan []byte)
	go func() {
		defer close(bodies)
		for i := range count {
			bodies <- mangle(rng, seeds[i%len(seeds)], i)
		}
	}()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for body := range bodies {
				code, err := checkAnswer(client, url, body)
				mu.Lock()
				counts[code]++
				mu.Unlock()
				if err != nil {
					t.Errorf("%v\nbody (%d bytes) starts %.200q", err, len(body), body)
				}
			}
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("answers by HTTP status: %v; heap in use %d MiB before, %d MiB after",
		counts, before.HeapInuse>>20, after.HeapInuse>>20)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 64<<20 {
		t.Errorf("heap in use grew by %d MiB over %d requests: something keeps what bad bodies allocate", grown>>20, count)
	}
	if counts[http.StatusOK] == 0 || counts[http.StatusBadRequest] == 0 || counts[http.StatusRequestEntityTooLarge] == 0 {
		t.Errorf("the mangling did not reach every kind of answer (200, 400, 413): %v", counts)
	}
}

func startTLSServer(t *testing.T) (string, *http.Client) {
	t.Helper()
	ca := testcert.NewCA(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writePair(t, certFile, keyFile, ca.Issue(t, "127.0.0.1"))
	certs, err := certfile.New(certFile, keyFile, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, newTestHandler(t), certs.GetCertificate, quietLog()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	return "https://" + ln.Addr().String() + "/mutate", httpsClient(t, ca.PEM)
}

// checkAnswer posts body and returns the status, and an error when the answer is not what a
// well-behaved webhook may say.
func checkAnswer(client *http.Client, url string, body []byte) (int, error) {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("transport: %w", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Errorf("reading the answer: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(answer, &review); err != nil || review.APIVersion != "admission.k8s.io/v1" ||
			review.Kind != "AdmissionReview" || review.Response == nil {
			return resp.StatusCode, fmt.Errorf("200 without a well-formed AdmissionReview v1: %.300s", answer)
		}
		var sent admissionv1.AdmissionReview
		if err := json.Unmarshal(body, &sent); err != nil || sent.Request == nil || sent.Request.UID != review.Response.UID {
			return resp.StatusCode, fmt.Errorf("response uid %q does not echo the request's", review.Response.UID)
		}
		r := review.Response
		if !r.Allowed && (r.Result == nil || r.Result.Message == "" || r.Patch != nil) {
			return resp.StatusCode, fmt.Errorf("a refusal without a reason, or with a patch: %.300s", answer)
		}
		if r.Patch != nil {
			var ops []map[string]any
			if err := json.Unmarshal(r.Patch, &ops); err != nil {
				return resp.StatusCode, fmt.Errorf("patch is not a JSON array of operations: %w", err)
			}
		}
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
	default:
		return resp.StatusCode, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, answer)
	}
	return resp.StatusCode, nil
}

// mangleSeeds are the fuzz target's seeds, plus a huge and a deeply nested pod.
func mangleSeeds(t *testing.T) [][]byte {
	t.Helper()
	var seeds [][]byte
	for _, path := range []string{seedPod, deniedPod, plainPod,
		"../mutation/testdata/unknown-fields.pod.yaml", "../mutation/testdata/kab-restorer.pod.yaml"} {
		seeds = append(seeds, reviewBody(t, podcase.JSON(t, path), nil))
	}
	seed := string(podcase.JSON(t, seedPod))
	// Huge: 20,000 extra labels, about 0.6 MiB, under the cap.
	var labels strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&labels, `"l%d":"v",`, i)
	}
	huge := strings.Replace(seed, `"metadata":{`, `"metadata":{"labels":{`+strings.TrimSuffix(labels.String(), ",")+`},`, 1)
	seeds = append(seeds, reviewBody(t, []byte(huge), nil))
	// Deeply nested: an unknown field 5,000 objects deep inside the pod spec.
	nested := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	deep := strings.Replace(seed, `"spec":{`, `"spec":{"x-nested":`+nested+`,`, 1)
	seeds = append(seeds, reviewBody(t, []byte(deep), nil))
	return seeds
}

// mangle makes the i-th body from seed: most are bit-flipped, some truncated, spliced, nested
// past encoding/json's depth limit, or grown past the body cap; every 10th is left intact so
// the path to a patch is exercised under the same load.
func mangle(rng *rand.Rand, seed []byte, i int) []byte {
	body := bytes.Clone(seed)
	switch i % 10 {
	case 0:
		return body
	case 1:
		return body[:rng.IntN(len(body))]
	case 2:
		at := rng.IntN(len(body))
		return append(body[:at:at], append(bytes.Repeat([]byte("[{\"\\u0000"), 1+rng.IntN(64)), seed[at:]...)...)
	case 3:
		return []byte(strings.Repeat("[", 20_000+rng.IntN(10_000)))
	case 4:
		return append(body, bytes.Repeat([]byte(" "), MaxBodyBytes)...)
	default:
		for range 1 + rng.IntN(8) {
			body[rng.IntN(len(body))] ^= 1 << rng.IntN(8)
		}
		return body
	}
}
