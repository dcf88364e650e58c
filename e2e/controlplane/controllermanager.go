package controlplane

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// StartControllerManager starts a real kube-controller-manager (from KAB_K8S_BIN_DIR) against
// this control plane, running only the named controllers (their full names, as
// `kube-controller-manager --help` lists them: "replicaset-controller", "deployment-controller",
// "disruption-controller", ...), and waits until its /healthz answers ok. It is opt-in: most tests want pods
// stored exactly as they were admitted, with nobody acting on them. It is stopped with the
// control plane (before the API server), and its log tail is printed when the test fails.
// There is still no scheduler or kubelet: pods it creates stay Pending and unbound.
func (cp *ControlPlane) StartControllerManager(t testing.TB, controllers ...string) {
	t.Helper()
	if len(controllers) == 0 {
		t.Fatal("StartControllerManager: name the controllers to run (e.g. replicaset-controller, deployment-controller, disruption-controller); " +
			"running all of them would start ones that need a cloud, a kubelet or signing keys")
	}
	if cp.controllerManager != nil {
		t.Fatal("StartControllerManager: a kube-controller-manager already runs for this control plane")
	}
	bin := binary(t, K8sBinDirEnv, "kube-controller-manager")
	if err := cp.writeControllerManagerFiles(); err != nil {
		t.Fatalf("kube-controller-manager files: %v", err)
	}
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		if err = cp.startControllerManager(bin, controllers); err == nil {
			return
		}
		t.Logf("kube-controller-manager start attempt %d: %v", attempt, err)
	}
	t.Fatalf("start kube-controller-manager: %v", err)
}

// writeControllerManagerFiles writes the admin kubeconfig the controller-manager talks to the
// API server with (in system:masters, so its controllers need no RBAC of their own) and a
// serving certificate from the cluster CA, so its /healthz is checked with verified TLS.
func (cp *ControlPlane) writeControllerManagerFiles() error {
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["kab-test"] = &clientcmdapi.Cluster{Server: cp.URL, CertificateAuthorityData: cp.CA.CertPEM}
	kubeconfig.AuthInfos["admin"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cp.Admin.CertData,
		ClientKeyData:         cp.Admin.KeyData,
	}
	kubeconfig.Contexts["admin@kab-test"] = &clientcmdapi.Context{Cluster: "kab-test", AuthInfo: "admin"}
	kubeconfig.CurrentContext = "admin@kab-test"
	if err := clientcmd.WriteToFile(*kubeconfig, cp.path("admin.kubeconfig")); err != nil {
		return fmt.Errorf("write admin.kubeconfig: %w", err)
	}
	serving, err := cp.CA.IssueServing("kube-controller-manager", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"controller-manager.crt": serving.CertPEM, "controller-manager.key": serving.KeyPEM} {
		if err := os.WriteFile(cp.path(name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

func (cp *ControlPlane) startControllerManager(bin string, controllers []string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	kubeconfig := cp.path("admin.kubeconfig")
	p, err := startProcess("kube-controller-manager", cp.path("kube-controller-manager.log"), bin,
		"--kubeconfig="+kubeconfig,
		// Delegated authentication and authorization of its own endpoints go through the API
		// server too; /healthz is in the always-allowed paths, so the probe needs no identity.
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		// One controller-manager per control plane, started and stopped with it: a Lease
		// would only delay the start by a lease duration.
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		"--secure-port="+itoa(port),
		"--tls-cert-file="+cp.path("controller-manager.crt"),
		"--tls-private-key-file="+cp.path("controller-manager.key"),
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cp.CA.CertPEM)
	probe := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	err = waitFor(p, readyTimeout, func() error { return httpOK(probe, "https://127.0.0.1:"+itoa(port)+"/healthz") })
	if err != nil {
		p.stop()
		return err
	}
	cp.controllerManager = p
	return nil
}
