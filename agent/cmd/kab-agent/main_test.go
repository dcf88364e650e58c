package main_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/boanu/kab/agent/internal/sandbox"
)

// agentBinary is the kab-agent built for these tests, as the image builds it.
var agentBinary string

func TestMain(m *testing.M) {
	sandbox.Main()
	dir, err := os.MkdirTemp("", "kab-agent-test")
	if err != nil {
		panic(err)
	}
	agentBinary, err = sandbox.BuildAgent(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
