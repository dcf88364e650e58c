package webhook

import (
	"encoding/json"
	"net/http"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/boanu/kab/injector/internal/podcase"
)

// FuzzAdmissionReview sends arbitrary bodies to /mutate: the handler never panics, and answers
// either 200 with a well-formed AdmissionReview v1 response echoing the uid, or a 4xx.
func FuzzAdmissionReview(f *testing.F) {
	for _, path := range []string{seedPod, deniedPod, plainPod,
		"../mutation/testdata/unknown-fields.pod.yaml", "../mutation/testdata/kab-restorer.pod.yaml"} {
		f.Add(reviewBody(f, podcase.JSON(f, path), nil))
	}
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","resource":{"resource":"pods"},"operation":"CREATE","object":null}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","resource":{"resource":"pods"},"operation":"CREATE","object":{"metadata":{"annotations":{"kab.boa.nu/backup-exec":"x"}},"spec":{}}}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))

	h := newTestHandler(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		w := post(t, h, "application/json", body)
		switch {
		case w.Code == http.StatusOK:
			resp := decodeResponse(t, w.Body.Bytes())
			var sent admissionv1.AdmissionReview
			if err := json.Unmarshal(body, &sent); err != nil || sent.Request == nil || resp.UID != sent.Request.UID {
				t.Fatalf("response uid %q does not echo the request's", resp.UID)
			}
			if !resp.Allowed && (resp.Result == nil || resp.Result.Message == "" || resp.Patch != nil) {
				t.Fatalf("a refusal without a reason, or with a patch: %+v", resp)
			}
		case w.Code >= 400 && w.Code < 500:
		default:
			t.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	})
}
