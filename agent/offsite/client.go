package offsite

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Object name suffixes: the encrypted tar, and its plaintext manifest written after it.
const (
	dataSuffix     = ".tar.zst.age"
	manifestSuffix = ".json"
)

// Store is one backup's place in the bucket: <prefix>/<namespace>/<backup-name>/.
type Store struct {
	cfg    *Config
	client *minio.Client
	dir    string // object name prefix, ending in '/'
}

// Open connects (lazily: nothing is sent yet) to the bucket for namespace/backupName.
func Open(cfg *Config, namespace, backupName string) (*Store, error) {
	if namespace == "" || backupName == "" {
		return nil, errors.New("offsite needs the pod's namespace and the backup name")
	}
	transport, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, err
	}
	if len(cfg.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.CABundle) {
			return nil, &ConfigError{cfg.Secret, KeyCABundle, "holds no PEM certificate; give the CA that signed the endpoint's certificate"}
		}
		transport.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	}
	// A dead endpoint must fail fast so the caller's own retry (with its log line and metric)
	// decides, not a long hidden wait.
	transport.ResponseHeaderTimeout = time.Minute
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		Secure:    cfg.Secure,
		Region:    cfg.Region,
		Transport: transport,
		// minio-go's own retries would hide a dead endpoint for minutes; kab retries itself.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("offsite endpoint %s: %w", cfg.URL(), err)
	}
	dir := path.Join(cfg.Prefix, namespace, backupName) + "/"
	return &Store{cfg: cfg, client: client, dir: dir}, nil
}

// DataObject is the name of the encrypted tar of stamp.
func (s *Store) DataObject(stamp string) string { return s.dir + stamp + dataSuffix }

// ManifestObject is the name of stamp's manifest.
func (s *Store) ManifestObject(stamp string) string { return s.dir + stamp + manifestSuffix }

// Where names the bucket and folder, for messages: "http://127.0.0.1:8333 bucket kab, ns/app/".
func (s *Store) Where() string {
	return fmt.Sprintf("%s bucket %q folder %q", s.cfg.URL(), s.cfg.Bucket, s.dir)
}

// stampOf returns the stamp of an object name in s.dir with suffix, or "".
func (s *Store) stampOf(name, suffix string) string {
	rest, ok := strings.CutPrefix(name, s.dir)
	if !ok || strings.Contains(rest, "/") {
		return ""
	}
	stamp, ok := strings.CutSuffix(rest, suffix)
	if !ok || !isStamp(stamp) {
		return ""
	}
	return stamp
}

// isDenied reports an S3 AccessDenied answer.
func isDenied(err error) bool {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code == "AccessDenied" || resp.StatusCode == http.StatusForbidden
	}
	return false
}
