// Command kubectl-kab is the kab kubectl plugin: put it on PATH and run `kubectl kab`.
package main

import (
	"context"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/boanu/kab/kubectl-kab/cli"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cli.Run(context.Background(), os.Args[1:], streams))
}
