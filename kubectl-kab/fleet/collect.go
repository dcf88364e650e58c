package fleet

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/boanu/kab/kubectl-kab/agentstatus"
)

// Target is one pod to ask.
type Target struct {
	Namespace, Pod, Mode string
}

// Asker fetches one agent's status and gauges; ctx carries the per-pod deadline.
type Asker func(ctx context.Context, t Target) (*agentstatus.Status, *agentstatus.Gauges, error)

// Collect asks every target, at most parallel at a time, each within timeout, so one pod
// answering slowly costs its own row, not the table. The result is sorted by namespace and
// pod, whatever order the answers came in.
func Collect(ctx context.Context, targets []Target, ask Asker, parallel int, timeout time.Duration) []Observation {
	if parallel < 1 {
		parallel = 1
	}
	out := make([]Observation, len(targets))
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			podCtx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			status, gauges, err := ask(podCtx, t)
			out[i] = Observation{Namespace: t.Namespace, Pod: t.Pod, Mode: t.Mode, Status: status, Gauges: gauges, Err: err}
		}()
	}
	wg.Wait()
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Namespace != out[b].Namespace {
			return out[a].Namespace < out[b].Namespace
		}
		return out[a].Pod < out[b].Pod
	})
	return out
}
