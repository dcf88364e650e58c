// Command kabbench is the measuring half of `make bench-e2e` (e2e/bench/): it times what a
// shell script cannot time to the millisecond, prints every sample and a min/median/max
// summary, and never judges a figure. Subcommands:
//
//	kabbench podstart --namespace NS --plain POD.yaml --kab POD.yaml [--shape POD.yaml] [--n 20]
//	kabbench trigger  --namespace NS --pod POD [--container app] [--n 20]
//	kabbench probe    [--control 127.0.0.1:9780] [--fifo /tmp/kab-bench-fifo]   (runs in the pod)
//
// The cluster is the kubeconfig's, or --context's.
package main

import (
	"flag"
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "podstart":
		err = podStartCmd(os.Args[2:])
	case "trigger":
		err = triggerCmd(os.Args[2:])
	case "probe":
		err = probeCmd(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kabbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kabbench podstart|trigger|probe [flags] (see the package comment; e2e/bench/*.sh run it)")
	os.Exit(2)
}

// cluster holds the flags every cluster-facing subcommand takes.
type cluster struct {
	context   string
	namespace string
	n         int
}

func (c *cluster) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.context, "context", "", "kubeconfig context (default: the current one)")
	fs.StringVar(&c.namespace, "namespace", "", "namespace to work in (required)")
	fs.IntVar(&c.n, "n", 20, "samples per variant")
}

func (c *cluster) client() (*rest.Config, *kubernetes.Clientset, error) {
	if c.namespace == "" {
		return nil, nil, fmt.Errorf("--namespace is required")
	}
	if c.n < 1 {
		return nil, nil, fmt.Errorf("--n must be at least 1, got %d", c.n)
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(clientcmd.NewDefaultClientConfigLoadingRules(),
		&clientcmd.ConfigOverrides{CurrentContext: c.context})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig: %w", err)
	}
	// The benchmark creates pods back to back: client-side throttling would be measured too.
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	return cfg, cs, err
}
