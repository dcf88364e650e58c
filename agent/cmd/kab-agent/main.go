// Command kab-agent is kab's per-pod sidecar: it runs the app's own backup command inside the
// app container's view on a schedule and on demand, and serves metrics. See DESIGN.md §6.
package main

import (
	"os"

	"github.com/boanu/kab/agent/cli"
)

func main() { os.Exit(run()) }

func run() int { return cli.Main(os.Args[1:], os.Getenv, os.Stdout, os.Stderr) }
