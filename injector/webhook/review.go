package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/injector/mutation"
	"github.com/boanu/kab/injector/patch"
)

// errBadReview marks a body that is not an AdmissionReview v1 with a request: answered 400.
var errBadReview = errors.New("not an admission.k8s.io/v1 AdmissionReview with a request")

func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadReview, err)
	}
	gvk := admissionv1.SchemeGroupVersion.WithKind("AdmissionReview")
	if review.APIVersion != gvk.GroupVersion().String() || review.Kind != gvk.Kind {
		return nil, fmt.Errorf("%w: got apiVersion %q kind %q", errBadReview, review.APIVersion, review.Kind)
	}
	if review.Request == nil || review.Request.UID == "" {
		return nil, fmt.Errorf("%w: request or request.uid missing", errBadReview)
	}
	return &review, nil
}

// verdict is the answer to one request, with what the log and the metrics need to know.
type verdict struct {
	response *admissionv1.AdmissionResponse
	result   string
	pod      string  // namespace/name, or namespace/generateName* for a pod without a name yet
	reason   error   // why denied or failed
	patchBuf *[]byte // holds response.Patch: back to patchBuffers once the answer is encoded
}

// patchBuffers are reused for the patches: after the pods themselves, a patch is the largest
// allocation of an admission, and it is dead once the answer is encoded.
var patchBuffers = sync.Pool{New: func() any { return new([]byte) }}

// release returns the patch's buffer; v.response.Patch must not be read afterwards.
func (v *verdict) release() {
	if v.patchBuf == nil {
		return
	}
	if cap(*v.patchBuf) <= MaxBodyBytes { // a patch cannot be longer than the pod it adds to
		patchBuffers.Put(v.patchBuf)
	}
	v.patchBuf, v.response.Patch = nil, nil
}

// admit answers one request. Only pods CREATE are kab's; the webhook registration asks for
// nothing else, but an answer that leaves everything else alone is the safe one anyway.
func admit(ctx context.Context, req *admissionv1.AdmissionRequest, cfg *config.Config, gate Gate) verdict {
	allow := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if req.Resource.Group != "" || req.Resource.Resource != "pods" || req.SubResource != "" || req.Operation != admissionv1.Create {
		return verdict{response: allow, result: ResultSkipped}
	}

	var pod corev1.Pod
	if err := json.Unmarshal(req.Object.Raw, &pod); err != nil {
		err = fmt.Errorf("kab cannot read the pod in the admission request: %w", err)
		return verdict{response: refuse(req, http.StatusBadRequest, metav1.StatusReasonBadRequest, err), result: ResultError, reason: err}
	}
	who := podName(req.Namespace, &pod)
	if pod.Namespace == "" {
		// The API server fills the namespace in only after admission; the layout and the
		// tenancy checks need it now. Set on the input too, so the patch does not carry it.
		pod.Namespace = req.Namespace
	}

	mutated, outcome, err := mutation.Mutate(&pod, cfg)
	if err != nil {
		return verdict{response: refuse(req, http.StatusForbidden, metav1.StatusReasonForbidden, err), result: ResultDenied, pod: who, reason: err}
	}
	if outcome.Skipped() {
		return verdict{response: allow, result: ResultSkipped, pod: who}
	}
	if gate != nil {
		dryRun := req.DryRun != nil && *req.DryRun
		var denied *mutation.DeniedError
		if err := gate.Admit(ctx, &pod, dryRun); errors.As(err, &denied) {
			return verdict{response: refuse(req, http.StatusForbidden, metav1.StatusReasonForbidden, err), result: ResultDenied, pod: who, reason: err}
		} else if err != nil {
			err = fmt.Errorf("kab cannot check the pod's namespace and backup-name: %w", err)
			return verdict{response: refuse(req, http.StatusInternalServerError, metav1.StatusReasonInternalError, err), result: ResultError, pod: who, reason: err}
		}
	}
	buf := patchBuffers.Get().(*[]byte)
	ops, err := patch.AppendBetween((*buf)[:0], &pod, mutated)
	*buf = ops
	if err != nil {
		patchBuffers.Put(buf)
		return verdict{response: refuse(req, http.StatusInternalServerError, metav1.StatusReasonInternalError, err), result: ResultError, pod: who, reason: err}
	}
	if len(ops) > 0 {
		allow.Patch = ops
	}
	jsonPatch := admissionv1.PatchTypeJSONPatch
	allow.PatchType = &jsonPatch
	return verdict{response: allow, result: ResultInjected, pod: who, patchBuf: buf}
}

func refuse(req *admissionv1.AdmissionRequest, code int32, reason metav1.StatusReason, err error) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{
		UID:     req.UID,
		Allowed: false,
		Result: &metav1.Status{
			Status:  metav1.StatusFailure,
			Message: err.Error(),
			Reason:  reason,
			Code:    code,
		},
	}
}

func podName(namespace string, pod *corev1.Pod) string {
	if pod.Name != "" {
		return namespace + "/" + pod.Name
	}
	return namespace + "/" + pod.GenerateName + "*"
}
