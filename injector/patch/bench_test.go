package patch

import (
	"testing"

	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
)

// BenchmarkBetween is the seed pod's patch computed by the typed walk (what Between does) and
// by the generic JSON diff it replaced for pods (encode both, decode into trees, LCS diff,
// encode the operations), in the same binary.
//
//	go test -run '^$' -bench Between -benchmem -cpu 1 ./injector/patch/
func BenchmarkBetween(b *testing.B) {
	pod := podcase.Pod(b, podcase.JSON(b, "../mutation/testdata/seed-example.pod.yaml"))
	pod.Namespace = "apps"
	mutated, outcome, err := mutation.Mutate(pod, podcase.Config(b, "../mutation/testdata", "seed-example"))
	if err != nil || outcome != mutation.Injected {
		b.Fatalf("outcome %v err %v", outcome, err)
	}
	for _, diff := range []struct {
		name string
		fn   func(any, any) ([]byte, error)
	}{{"walk", Between}, {"generic", generic}} {
		b.Run(diff.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ops, err := diff.fn(pod, mutated); err != nil || ops == nil {
					b.Fatalf("patch %s err %v", ops, err)
				}
			}
		})
	}
}
