package appexec_test

import (
	"testing"

	"github.com/boanu/kab/agent/appexec"
	"github.com/boanu/kab/agent/internal/sandbox"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	sandbox.Main()
	if err := appexec.BecomeSubreaper(); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m)
}
