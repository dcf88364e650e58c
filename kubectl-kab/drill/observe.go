package drill

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/mutation"
)

// Stage is how far a drill pod got, read from its status.
type Stage string

const (
	StageScheduling Stage = "scheduling"
	StageCopying    Stage = "copying the snapshot"
	StageRestoring  Stage = "restoring"
	StageStarting   Stage = "starting the app"
	StageReady      Stage = "ready"
	StageFailed     Stage = "failed"
)

// Observation is one look at the drill pod.
type Observation struct {
	Stage Stage
	// Reason says why the drill failed (StageFailed) or what it waits for.
	Reason string
	// CopyFailed marks a failure of kab-drill-copy: the snapshot does not exist or cannot be
	// read — a bad request more than a bad backup.
	CopyFailed bool
}

// hopeless are the waiting reasons that do not pass by themselves within a drill's timeout.
var hopeless = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true,
	"CreateContainerConfigError": true, "CreateContainerError": true, "RunContainerError": true,
}

// Observe reads the drill pod's status: app is the app container's name.
func Observe(pod *corev1.Pod, app string) Observation {
	for _, s := range pod.Status.InitContainerStatuses {
		if t := s.State.Terminated; t != nil && t.ExitCode != 0 {
			if s.Name == mutation.DrillCopyContainerName {
				return Observation{Stage: StageFailed, CopyFailed: true, Reason: oneLine(t.Message, fmt.Sprintf("%s exited with code %d", s.Name, t.ExitCode))}
			}
			return Observation{Stage: StageFailed, Reason: fmt.Sprintf("init container %s exited with code %d%s", s.Name, t.ExitCode, suffix(t.Message))}
		}
		if w := s.State.Waiting; w != nil && hopeless[w.Reason] {
			return Observation{Stage: StageFailed, Reason: fmt.Sprintf("init container %s: %s%s", s.Name, w.Reason, suffix(w.Message))}
		}
	}
	for _, s := range pod.Status.ContainerStatuses {
		if s.Name != app {
			continue
		}
		if t := s.State.Terminated; t != nil {
			return Observation{Stage: StageFailed, Reason: fmt.Sprintf("the app container %s exited with code %d (%s) instead of becoming ready%s", app, t.ExitCode, t.Reason, suffix(t.Message))}
		}
		if w := s.State.Waiting; w != nil && hopeless[w.Reason] {
			return Observation{Stage: StageFailed, Reason: fmt.Sprintf("the app container %s: %s%s", app, w.Reason, suffix(w.Message))}
		}
		if s.Ready {
			return Observation{Stage: StageReady}
		}
		if s.State.Running != nil {
			return Observation{Stage: StageStarting, Reason: "the app is running, not ready yet"}
		}
	}
	switch pod.Status.Phase {
	case corev1.PodFailed, corev1.PodSucceeded:
		return Observation{Stage: StageFailed, Reason: fmt.Sprintf("the pod ended (%s)%s", pod.Status.Phase, suffix(pod.Status.Message))}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue {
			return Observation{Stage: StageScheduling, Reason: oneLine(c.Message, "not scheduled yet")}
		}
	}
	if !terminatedOK(pod, mutation.DrillCopyContainerName) {
		return Observation{Stage: StageCopying}
	}
	for _, c := range pod.Spec.InitContainers {
		sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		if !sidecar && terminated(pod, c.Name) == nil {
			return Observation{Stage: StageRestoring, Reason: "init container " + c.Name}
		}
	}
	return Observation{Stage: StageStarting}
}

// Copied is what kab-drill-copy reported (its termination message); ok false until it ended.
func Copied(pod *corev1.Pod) (snapshot string, files int, bytes int64, ok bool) {
	t := terminated(pod, mutation.DrillCopyContainerName)
	if t == nil || t.ExitCode != 0 {
		return "", 0, 0, false
	}
	var msg struct {
		Snapshot string `json:"snapshot"`
		Files    int    `json:"files"`
		Bytes    int64  `json:"bytes"`
	}
	if err := json.Unmarshal([]byte(t.Message), &msg); err != nil {
		return "", 0, 0, false
	}
	return msg.Snapshot, msg.Files, msg.Bytes, true
}

// Ran is how long an init container ran, as the kubelet recorded it (whole seconds).
func Ran(pod *corev1.Pod, container string) (time.Duration, bool) {
	t := terminated(pod, container)
	if t == nil {
		return 0, false
	}
	return t.FinishedAt.Sub(t.StartedAt.Time), true
}

// RestoreContainer is the container that restores in the drill pod: the user's kab-restorer
// or the injector's kab-restore; "" when the pod restores nothing.
func RestoreContainer(pod *corev1.Pod) string {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == mutation.UserRestoreContainerName || c.Name == mutation.RestoreContainerName {
			return c.Name
		}
	}
	return ""
}

func terminatedOK(pod *corev1.Pod, container string) bool {
	t := terminated(pod, container)
	return t != nil && t.ExitCode == 0
}

func terminated(pod *corev1.Pod, container string) *corev1.ContainerStateTerminated {
	for _, s := range pod.Status.InitContainerStatuses {
		if s.Name == container {
			return s.State.Terminated
		}
	}
	return nil
}

func oneLine(s, fallback string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return fallback
	}
	return s
}

func suffix(msg string) string {
	if msg = oneLine(msg, ""); msg != "" {
		return ": " + msg
	}
	return ""
}
