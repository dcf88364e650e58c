// Package deploy holds kab's Kubernetes manifests; its test keeps the rendered deploy/kab.yaml
// in step with the kustomize base and overlays it is generated from.
package deploy

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestRenderedManifestUpToDate fails when deploy/kab.yaml is not what deploy/render.sh makes of
// the current base and nfs overlay: a user applying the one file must get what the overlays say.
func TestRenderedManifestUpToDate(t *testing.T) {
	cmd := exec.Command("./render.sh", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	rendered, err := cmd.Output()
	if err != nil {
		t.Fatalf("deploy/render.sh -: %v\n%s", err, stderr.String())
	}
	committed, err := os.ReadFile("kab.yaml")
	if err != nil {
		t.Fatalf("read deploy/kab.yaml: %v (run deploy/render.sh)", err)
	}
	if !bytes.Equal(rendered, committed) {
		t.Fatalf("deploy/kab.yaml is out of date with deploy/base and deploy/overlays/nfs; run deploy/render.sh.\nfirst difference:\n%s",
			firstDifference(string(committed), string(rendered)))
	}
}

// firstDifference shows the first differing line with its number, enough to see what moved.
func firstDifference(committed, rendered string) string {
	a, b := strings.Split(committed, "\n"), strings.Split(rendered, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var la, lb string
		if i < len(a) {
			la = a[i]
		}
		if i < len(b) {
			lb = b[i]
		}
		if la != lb {
			return "line " + strconv.Itoa(i+1) + ":\n  kab.yaml: " + la + "\n  rendered: " + lb
		}
	}
	return "(only trailing bytes differ)"
}
