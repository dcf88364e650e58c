package mutation_test

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
)

// TestInjectionKeepsPodSecurityBaseline runs the API server's own Pod Security checks: a pod
// that passes baseline must still pass it after injection (DESIGN §4.6), except with a
// hostPath backup volume, which baseline forbids by definition.
func TestInjectionKeepsPodSecurityBaseline(t *testing.T) {
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}
	baseline := psaapi.LevelVersion{Level: psaapi.LevelBaseline, Version: psaapi.LatestVersion()}
	forbidden := func(pod *corev1.Pod) string {
		result := policy.AggregateCheckResults(evaluator.EvaluatePod(baseline, &pod.ObjectMeta, &pod.Spec))
		if result.Allowed {
			return ""
		}
		return result.ForbiddenReason() + ": " + result.ForbiddenDetail()
	}

	inputs, _ := filepath.Glob("testdata/*.pod.yaml")
	checked := 0
	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".pod.yaml")
		cfg := podcase.Config(t, "testdata", name)
		pod := podcase.Pod(t, podcase.JSON(t, input))
		out, outcome, err := mutation.Mutate(pod, cfg)
		if err != nil || outcome != mutation.Injected || cfg.Volume.HostPath != nil || forbidden(pod) != "" {
			continue
		}
		checked++
		if why := forbidden(out); why != "" {
			t.Errorf("%s: the app passes baseline, the injected pod does not: %s", name, why)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d cases checked; the golden inputs no longer exercise baseline", checked)
	}
}
