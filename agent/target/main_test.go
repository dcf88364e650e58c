package target_test

import (
	"testing"

	"github.com/boanu/kab/agent/internal/sandbox"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	sandbox.Main()
	goleak.VerifyTestMain(m)
}
