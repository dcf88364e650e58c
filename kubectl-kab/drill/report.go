package drill

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/boanu/kab/kubectl-kab/fleet"
)

// Kind and APIVersion name the -o json|yaml document (as fleet's StatusList).
const (
	Kind       = "DrillResult"
	APIVersion = fleet.ListAPIVersion
)

// Results of a drill.
const (
	ResultSuccess = "success"
	ResultFailed  = "failed"
)

// Verify outcomes.
const (
	VerifyPassed = "passed"
	VerifyFailed = "failed"
	VerifyNone   = "none"
)

// Result is what `kubectl kab drill` reports.
type Result struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`

	Namespace  string `json:"namespace"`
	Pod        string `json:"pod"`
	DrillPod   string `json:"drillPod,omitempty"`
	BackupName string `json:"backupName"`
	Mode       string `json:"mode"`
	// Snapshot is the stamp restored (snapshot mode), "" in seed mode or when the copy failed.
	Snapshot string `json:"snapshot,omitempty"`
	Files    int    `json:"files"`
	Bytes    int64  `json:"sizeBytes"`
	// RestoreSeconds is the restore init container's run time as the kubelet recorded it (whole
	// seconds); ReadySeconds the time from creating the drill pod to its app being Ready.
	CopySeconds    *float64 `json:"copySeconds,omitempty"`
	RestoreSeconds *float64 `json:"restoreSeconds,omitempty"`
	ReadySeconds   *float64 `json:"readySeconds,omitempty"`
	Verify         string   `json:"verify"`
	VerifyExitCode *int     `json:"verifyExitCode,omitempty"`
	VerifyOutput   string   `json:"verifyOutput,omitempty"`
	// ScratchVolumes are the app's data volumes the drill pod got as empty folders instead.
	ScratchVolumes []string `json:"scratchVolumes,omitempty"`
	Result         string   `json:"result"`
	Reason         string   `json:"reason,omitempty"`
}

// NewResult starts a report for a drill of pod.
func NewResult(namespace, pod, backupName, mode string) *Result {
	return &Result{APIVersion: APIVersion, Kind: Kind, Namespace: namespace, Pod: pod, BackupName: backupName, Mode: mode, Verify: VerifyNone}
}

// Fail records why the drill failed; the first reason stays.
func (r *Result) Fail(reason string) {
	r.Result = ResultFailed
	if r.Reason == "" {
		r.Reason = reason
	}
}

// Succeeded reports whether the drill passed.
func (r *Result) Succeeded() bool { return r.Result == ResultSuccess }

// WriteTable prints the result as kubectl prints a one-row table.
func WriteTable(out io.Writer, r *Result) error {
	w := printers.GetNewTabWriter(out)
	fmt.Fprintln(w, strings.Join([]string{"POD", "BACKUP", "SNAPSHOT", "FILES", "SIZE", "RESTORE", "READY", "VERIFY", "RESULT", "REASON"}, "\t"))
	snapshot := r.Snapshot
	if snapshot == "" {
		snapshot = "-"
		if r.Mode == fleet.ModeSeed {
			snapshot = "(seed)"
		}
	}
	verify := r.Verify
	if r.VerifyExitCode != nil && *r.VerifyExitCode != 0 {
		verify += " (" + strconv.Itoa(*r.VerifyExitCode) + ")"
	}
	reason := r.Reason
	if reason == "" {
		reason = "-"
	}
	fmt.Fprintln(w, strings.Join([]string{
		r.Pod, r.BackupName, snapshot, strconv.Itoa(r.Files), fleet.Bytes(r.Bytes),
		seconds(r.RestoreSeconds), seconds(r.ReadySeconds), verify, r.Result, reason,
	}, "\t"))
	return w.Flush()
}

func seconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return strconv.FormatFloat(*s, 'f', 1, 64) + "s"
}

// GetObjectKind and DeepCopyObject make Result a runtime.Object for cli-runtime's printers.
func (r *Result) GetObjectKind() schema.ObjectKind { return r }

// DeepCopyObject copies the result.
func (r *Result) DeepCopyObject() runtime.Object {
	c := *r
	c.ScratchVolumes = append([]string(nil), r.ScratchVolumes...)
	for _, p := range []**float64{&c.CopySeconds, &c.RestoreSeconds, &c.ReadySeconds} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	if r.VerifyExitCode != nil {
		v := *r.VerifyExitCode
		c.VerifyExitCode = &v
	}
	return &c
}

// SetGroupVersionKind is part of schema.ObjectKind.
func (r *Result) SetGroupVersionKind(gvk schema.GroupVersionKind) {
	r.APIVersion, r.Kind = gvk.GroupVersion().String(), gvk.Kind
}

// GroupVersionKind is part of schema.ObjectKind.
func (r *Result) GroupVersionKind() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
}
