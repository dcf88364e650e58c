package main_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/boanu/kab/agent/internal/sandbox"
)

// agentBinary is the kab-agent built for these tests, as the image builds it, or the binary
// KAB_AGENT_BINARY names (e.g. `make build`'s bin/kab-agent, to measure the image's own build).
var agentBinary string

func TestMain(m *testing.M) {
	sandbox.Main()
	dir, err := os.MkdirTemp("", "kab-agent-test")
	if err != nil {
		panic(err)
	}
	if prebuilt := os.Getenv("KAB_AGENT_BINARY"); prebuilt != "" {
		agentBinary = prebuilt
		if _, err = os.Stat(prebuilt); err != nil {
			err = fmt.Errorf("KAB_AGENT_BINARY=%s: %w; want the path of a built kab-agent", prebuilt, err)
		}
	} else {
		agentBinary, err = sandbox.BuildAgent(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
