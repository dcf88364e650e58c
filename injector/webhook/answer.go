package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
)

// answerBuffers are reused to encode the answers: an answer with a patch is a few KiB (the
// patch in base64), and it is dead once written.
var answerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeAnswer writes review as json.Marshal would encode it; on an error nothing is written.
func writeAnswer(w http.ResponseWriter, review *admissionv1.AdmissionReview) error {
	buf := answerBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= MaxBodyBytes {
			answerBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(review); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) // Encode's newline: not json.Marshal's
	return nil
}
