// Package webhook is the injector's thin HTTP layer: it decodes an AdmissionReview, calls
// mutation.Mutate, diffs with patch.Between and encodes the answer. It holds no logic of its
// own about pods.
//
// Use from main and from tests (integration tests included):
//
//	reg := webhook.NewRegistry()                       // private registry + Go/process collectors
//	handler, err := webhook.NewHandler(cfg, log, reg)  // POST /mutate, /healthz, /readyz, /metrics
//	err = webhook.Serve(ctx, listener, handler, getCertificate, log)
//
// Serve runs TLS (≥ 1.2) on the listener with the certificate from getCertificate (for example
// (*certfile.Reloader).GetCertificate, so renewed files are served without a restart) until ctx
// is done, then shuts down gracefully. A test can also mount the handler on httptest.Server.
//
// POST /mutate takes an AdmissionReview v1 with Content-Type application/json, at most
// MaxBodyBytes. Answers: 200 with a response (allowed with a JSONPatch, allowed unchanged, or
// denied with code 403 and the reason); 400 for a body that is not an AdmissionReview v1 with
// a request; 413 above the size cap; 415 for another content type. Only pods CREATE are
// mutated; any other request is allowed unchanged.
//
// Metrics: kab_injector_admissions_total{result="injected|skipped|denied|error"} and the
// kab_injector_admission_duration_seconds histogram.
package webhook
