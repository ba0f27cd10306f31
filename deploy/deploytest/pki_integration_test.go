// Copyright The otelcol-runtime-security Authors
// SPDX-License-Identifier: Apache-2.0

//go:build integration

package deploytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// testPKI is a throwaway CA with a server certificate (the gateway's, and the backends' stand-ins')
// and a client certificate (the collector's), laid out as the Secrets of components/tls.
type testPKI struct {
	ca                    *x509.Certificate
	caPEM                 []byte
	serverCert, serverKey []byte
	clientCert, clientKey []byte
	serverPair            tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "deploytest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := &testPKI{ca: ca, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	leaf := func(serial int64, tmpl *x509.Certificate) (certPEM, keyPEM []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SerialNumber = big.NewInt(serial)
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(24*time.Hour)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		k, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
	}
	p.serverCert, p.serverKey = leaf(2, &x509.Certificate{
		Subject:     pkix.Name{CommonName: gatewayName},
		DNSNames:    []string{"localhost", gatewayName + "." + namespace + ".svc"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	p.clientCert, p.clientKey = leaf(3, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "otelcol-runtime-security"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if p.serverPair, err = tls.X509KeyPair(p.serverCert, p.serverKey); err != nil {
		t.Fatal(err)
	}
	return p
}

// write puts the two Secrets' files where the pod mounts them, in layout.
func (p *testPKI) write(t *testing.T, layout PodLayout) {
	t.Helper()
	const tlsDir, gwDir = "/etc/otelcol-runtime-security/tls/", "/etc/otelcol-runtime-security/gateway-tls/"
	if _, err := layout.WriteFiles([]ConfigFile{
		{Path: tlsDir + "ca.crt", Data: p.caPEM},
		{Path: tlsDir + "tls.crt", Data: p.clientCert},
		{Path: tlsDir + "tls.key", Data: p.clientKey},
		{Path: gwDir + "ca.crt", Data: p.caPEM},
		{Path: gwDir + "tls.crt", Data: p.serverCert},
		{Path: gwDir + "tls.key", Data: p.serverKey},
	}); err != nil {
		t.Fatal(err)
	}
}

// server starts a stand-in backend: plain HTTP without a PKI, else https with the server
// certificate, requiring a client certificate signed by the CA.
func (p *testPKI) server(h http.Handler) *httptest.Server {
	if p == nil {
		return httptest.NewServer(h)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.serverPair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	return srv
}
