package selftls

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Secret keys. tls.crt and tls.key make the Secret a valid kubernetes.io/tls Secret; ca.crt is
// the trust bundle written into the webhook's caBundle (the current CA first, then a previous CA
// while certificates it signed may still be served); ca.key signs serving certificates.
const (
	caCertKey = "ca.crt"
	caKeyKey  = "ca.key"
)

// material is what the Secret holds, parsed and checked.
type material struct {
	caCert   *x509.Certificate // the current CA, which signed the serving certificate
	caKey    crypto.Signer
	caBundle []byte // PEM, as stored: current CA, then any previous CA still valid
	serving  *tls.Certificate
}

// parseSecret reads and checks the Secret's certificates: the serving certificate must chain to
// the current CA. An error means the Secret is unusable and must be replaced.
func parseSecret(s *corev1.Secret) (*material, error) {
	bundlePEM := s.Data[caCertKey]
	cas, err := parseCertificates(bundlePEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", caCertKey, err)
	}
	caKey, err := parsePrivateKey(s.Data[caKeyKey])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", caKeyKey, err)
	}
	if !publicKeysEqual(cas[0].PublicKey, caKey.Public()) {
		return nil, fmt.Errorf("%s does not belong to the first certificate in %s", caKeyKey, caCertKey)
	}
	serving, err := tls.X509KeyPair(s.Data[corev1.TLSCertKey], s.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", corev1.TLSCertKey, corev1.TLSPrivateKeyKey, err)
	}
	if err := serving.Leaf.CheckSignatureFrom(cas[0]); err != nil {
		return nil, fmt.Errorf("%s is not signed by the CA in %s: %w", corev1.TLSCertKey, caCertKey, err)
	}
	return &material{caCert: cas[0], caKey: caKey, caBundle: bundlePEM, serving: &serving}, nil
}

// secretData encodes material as the Secret's data.
func (m *material) secretData() (map[string][]byte, error) {
	caKeyPEM, err := privateKeyPEM(m.caKey)
	if err != nil {
		return nil, err
	}
	servingKeyPEM, err := privateKeyPEM(m.serving.PrivateKey.(crypto.Signer))
	if err != nil {
		return nil, err
	}
	var chain bytes.Buffer
	for _, der := range m.serving.Certificate {
		chain.Write(pemBlock("CERTIFICATE", der))
	}
	return map[string][]byte{
		caCertKey:               bytes.Clone(m.caBundle),
		caKeyKey:                caKeyPEM,
		corev1.TLSCertKey:       chain.Bytes(),
		corev1.TLSPrivateKeyKey: servingKeyPEM,
	}, nil
}

// newCA makes a self-signed CA. previous, if given, stays in the trust bundle until it expires:
// the other replica may still serve a certificate it signed until it reads the new Secret.
func newCA(commonName string, now time.Time, validity time.Duration, previous *material) (*x509.Certificate, crypto.Signer, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("self-sign CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("parse new CA: %w", err)
	}
	bundle := pemBlock("CERTIFICATE", der)
	if previous != nil && now.Before(previous.caCert.NotAfter) {
		bundle = append(bundle, pemBlock("CERTIFICATE", previous.caCert.Raw)...)
	}
	return cert, key, bundle, nil
}

// newServing issues a serving certificate for dnsNames, never outliving its CA.
func newServing(dnsNames []string, now time.Time, validity time.Duration, caCert *x509.Certificate, caKey crypto.Signer) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate serving key: %w", err)
	}
	notAfter := now.Add(validity)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: dnsNames[0]},
		DNSNames:     dnsNames,
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return nil, fmt.Errorf("sign serving certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse serving certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// clockSkew back-dates certificates so a node whose clock is a little behind accepts them.
const clockSkew = 5 * time.Minute

func parseCertificates(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return certs, nil
}

func parsePrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM private key")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", key)
	}
	return signer, nil
}

func privateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	return pemBlock("PRIVATE KEY", der), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ak, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ak.Equal(b)
}

func newSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		// crypto/rand does not fail on Linux; a fixed serial would be worse than a crash.
		panic(fmt.Sprintf("random serial: %v", err))
	}
	return n
}
