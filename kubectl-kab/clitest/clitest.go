// Package clitest runs kubectl-kab in process, as its binary runs, for the tests that drive it
// against a real API server (kubectl-kab/cli and e2e/apiserver).
package clitest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/boanu/kab/kubectl-kab/cli"
)

// Run runs `kubectl-kab --kubeconfig KUBECONFIG ARGS…` and returns its exit code and both
// streams; a command gets a minute.
func Run(t testing.TB, kubeconfig string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	streams := genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	code = cli.Run(ctx, append([]string{"--kubeconfig", kubeconfig}, args...), streams)
	return code, out.String(), errOut.String()
}

// WantOneLineError fails t unless the command failed with one line on stderr containing want:
// the plugin's errors name what is wrong in one line a person can act on.
func WantOneLineError(t testing.TB, code int, stderr, want string) {
	t.Helper()
	if code == 0 {
		t.Errorf("exit code 0, want non-zero; stderr %q", stderr)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want it to contain %q", stderr, want)
	}
	if lines := strings.Count(strings.TrimSpace(stderr), "\n") + 1; lines != 1 {
		t.Errorf("stderr has %d lines, want one:\n%s", lines, stderr)
	}
}
