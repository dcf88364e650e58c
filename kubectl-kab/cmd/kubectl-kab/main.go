// Command kubectl-kab is the kab kubectl plugin: put it on PATH and run `kubectl kab`.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/boanu/kab/kubectl-kab/cli"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	err := cli.NewRoot(streams).Execute()
	if msg := ""; err != nil {
		if msg = cli.Message(err); msg != "" {
			fmt.Fprintln(os.Stderr, "kubectl-kab:", msg)
		}
	}
	os.Exit(cli.ExitCode(err))
}
