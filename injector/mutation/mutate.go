package mutation

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/boanu/kab/injector/config"
	"github.com/boanu/kab/shared"
)

// Outcome says what Mutate did with a pod.
type Outcome int

const (
	// Injected: the returned pod differs from the input.
	Injected Outcome = iota + 1
	// SkippedNotKab: the pod has no kab.boa.nu/ annotation; kab never touches such pods.
	SkippedNotKab
	// SkippedAlreadyInjected: the pod carries kab.boa.nu/status: injected (a reinvocation).
	SkippedAlreadyInjected
)

func (o Outcome) String() string {
	switch o {
	case Injected:
		return "injected"
	case SkippedNotKab:
		return "skipped: no " + shared.Prefix + " annotation"
	case SkippedAlreadyInjected:
		return "skipped: already injected"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Skipped reports whether the pod was returned unchanged.
func (o Outcome) Skipped() bool { return o == SkippedNotKab || o == SkippedAlreadyInjected }

// DeniedError is the one kind of error Mutate returns: the pod asks for something kab cannot
// serve. Each problem names what is wrong and what would be valid; all are reported at once so
// a user fixes a pod in one round trip.
type DeniedError struct {
	Problems []error
}

func (e *DeniedError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

func (e *DeniedError) Unwrap() []error { return e.Problems }

// Mutate returns the pod kab admits for the given one, following DESIGN §4. The input is never
// modified; a skipped pod is returned as is. Every error is a *DeniedError.
func Mutate(pod *corev1.Pod, cfg *config.Config) (*corev1.Pod, Outcome, error) {
	if !shared.HasAnnotations(pod.Annotations) {
		return pod, SkippedNotKab, nil
	}
	if pod.Annotations[shared.Prefix+shared.KeyStatus] == shared.StatusInjected {
		return pod, SkippedAlreadyInjected, nil
	}

	// Collect every problem before giving up: a bad annotation and a name clash in one pod
	// are both reported in one denial. The container checks read the raw annotations, so
	// they run even when another annotation fails to parse.
	problems := podProblems(pod)
	problems = append(problems, drillProblems(pod)...)
	problems = append(problems, layoutProblems(pod, cfg.Layout)...)
	spec, err := shared.Parse(pod.Annotations)
	if err != nil {
		problems = append(problems, flatten(err)...)
	}
	app, err := appContainer(pod, pod.Annotations[shared.Prefix+shared.KeyContainerName])
	if err != nil {
		problems = append(problems, err)
	}
	if app != nil {
		withAgent := pod.Annotations[shared.Prefix+shared.KeyBackupExec] != ""
		problems = append(problems, appProblems(pod, app, withAgent, cfg)...)
	}
	if len(problems) > 0 {
		return nil, 0, &DeniedError{Problems: problems}
	}

	out := pod.DeepCopy()
	// app points into out from here on: appContainer returned an element of the input's slice.
	app = &out.Spec.Containers[indexOfContainer(out.Spec.Containers, app.Name)]
	if spec.Drill != "" {
		injectDrill(out, app, spec, cfg)
	} else {
		inject(out, app, spec, cfg)
	}
	return out, Injected, nil
}

// inject applies DESIGN §4 steps 2–5 to a validated copy of the pod.
func inject(pod *corev1.Pod, app *corev1.Container, spec *shared.Spec, cfg *config.Config) {
	pod.Spec.Volumes = append(pod.Spec.Volumes, backupVolume(cfg.Volume))

	// The restore container is cloned from the app as the user wrote it, before kab adds its
	// marker env: restore processes must never look like the app to the agent.
	restoreAt := addRestoreContainer(pod, app, spec)

	addBackupMount(app, spec)
	if spec.BackupExec != "" {
		// Validated in appProblems: the capabilities cannot fail here.
		caps, _ := agentCapabilities(app, cfg.AllowPtrace)
		agent := agentSidecar(app.Name, spec, cfg, caps)
		pod.Spec.InitContainers = insertContainer(pod.Spec.InitContainers, restoreAt+1, agent)
		raisePodResources(&pod.Spec, agent.Resources)
		setEnv(app, corev1.EnvVar{Name: shared.EnvContainer, Value: app.Name})
		shareProcesses := true
		pod.Spec.ShareProcessNamespace = &shareProcesses
	}

	addOffsite(pod, app, spec, cfg, restoreAt)
	placeBackupFolder(pod, spec, cfg.Layout)

	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[shared.InjectedLabel] = "true"
	pod.Annotations[shared.Prefix+shared.KeyStatus] = shared.StatusInjected
}

// flatten undoes errors.Join so each problem is one line of the denial.
func flatten(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func indexOfContainer(containers []corev1.Container, name string) int {
	for i := range containers {
		if containers[i].Name == name {
			return i
		}
	}
	return -1
}

func insertContainer(list []corev1.Container, at int, c corev1.Container) []corev1.Container {
	if len(list) == cap(list) {
		// A container is large and kab usually adds two (restore and agent): room for both
		// at once, not a second copy of the list when the agent comes.
		list = slices.Grow(list, 2)
	}
	list = append(list, corev1.Container{})
	copy(list[at+1:], list[at:])
	list[at] = c
	return list
}
