package mutation_test

import (
	"testing"

	"github.com/boanu/kab/injector/internal/podcase"
	"github.com/boanu/kab/injector/mutation"
)

// BenchmarkMutate is the pure mutation of the seed pod, without decoding or diffing.
func BenchmarkMutate(b *testing.B) {
	pod := podcase.Pod(b, podcase.JSON(b, "testdata/seed-example.pod.yaml"))
	cfg := fuzzConfig(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, outcome, err := mutation.Mutate(pod, cfg); err != nil || outcome != mutation.Injected {
			b.Fatalf("outcome %v err %v", outcome, err)
		}
	}
}
