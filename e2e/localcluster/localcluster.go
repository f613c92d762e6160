// Package localcluster starts a real Kubernetes control plane on loopback: etcd,
// kube-apiserver (RBAC, service-account tokens, default admission), kube-controller-manager and
// kube-scheduler, from the multi-call binary that package build compiles. It writes an admin
// kubeconfig, waits until every component answers, and stops every process it started.
package localcluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Options configure a control plane.
type Options struct {
	// Binary is the control-plane multi-call binary.
	Binary string
	// Dir holds data, certificates and the kubeconfig; LogDir the component logs (Dir/logs when
	// empty).
	Dir, LogDir string
	// ReadyTimeout bounds the wait for each component; 90s when zero.
	ReadyTimeout time.Duration
}

// Cluster is a running control plane.
type Cluster struct {
	// Kubeconfig is the admin kubeconfig (system:masters).
	Kubeconfig string
	// Config is the admin client configuration.
	Config *rest.Config
	// Server is the API server URL; CAFile verifies it.
	Server, CAFile string
	// ServiceAccountKey signs service-account tokens.
	ServiceAccountKey string
	Dir, LogDir       string

	procs []*Process
	// How the API server was started, for RestartAPIServer.
	apiBin   string
	apiArgs  []string
	apiToken string
}

// ComponentError names the component that failed and its log.
type ComponentError struct {
	Component, LogFile string
	Err                error
}

func (e *ComponentError) Error() string {
	return fmt.Sprintf("%s: %v (log: %s)", e.Component, e.Err, e.LogFile)
}

func (e *ComponentError) Unwrap() error { return e.Err }

// Start starts the control plane and returns once every component is ready. On failure
// everything already started is stopped.
func Start(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.LogDir == "" {
		o.LogDir = filepath.Join(o.Dir, "logs")
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 90 * time.Second
	}
	for _, d := range []string{o.Dir, o.LogDir, filepath.Join(o.Dir, "certs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	if _, err := os.Stat(o.Binary); err != nil {
		return nil, fmt.Errorf("control-plane binary: %w", err)
	}
	c := &Cluster{Dir: o.Dir, LogDir: o.LogDir, CAFile: filepath.Join(o.Dir, "certs", "apiserver.crt")}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	token, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	saKey, saPub := filepath.Join(o.Dir, "sa.key"), filepath.Join(o.Dir, "sa.pub")
	if err := writeServiceAccountKeys(saKey, saPub); err != nil {
		return nil, err
	}
	c.ServiceAccountKey = saKey
	tokens := filepath.Join(o.Dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte(token+",admin,admin,system:masters\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing token file: %w", err)
	}

	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort, kcmPort, schedPort := ports[0], ports[1], ports[2], ports[3], ports[4]
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(etcdClient)

	// etcd
	etcd, err := c.start("etcd", o.Binary, "etcd",
		"--name=kafkaplane", "--data-dir="+filepath.Join(o.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-advertise-peer-urls=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--initial-cluster=kafkaplane=http://127.0.0.1:"+strconv.Itoa(etcdPeer),
		"--unsafe-no-fsync", "--log-level=warn", "--quota-backend-bytes=4294967296")
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, etcd, o.ReadyTimeout, http.DefaultClient, etcdURL+"/health", ""); err != nil {
		return nil, err
	}

	// kube-apiserver
	c.Server = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	c.apiBin, c.apiToken = o.Binary, token
	c.apiArgs = []string{"kube-apiserver",
		"--etcd-servers=" + etcdURL, "--secure-port=" + strconv.Itoa(apiPort), "--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none", "--cert-dir=" + filepath.Join(o.Dir, "certs"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + saPub, "--service-account-signing-key-file=" + saKey,
		"--token-auth-file=" + tokens, "--authorization-mode=Node,RBAC",
		"--service-cluster-ip-range=10.96.0.0/16", "--allow-privileged=true",
		"--enable-priority-and-fairness=false", "--max-requests-inflight=2000",
		"--max-mutating-requests-inflight=1000", "--profiling=false"}
	api, err := c.start("kube-apiserver", c.apiBin, c.apiArgs...)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, api, o.ReadyTimeout, insecureClient, c.Server+"/readyz", token); err != nil {
		return nil, err
	}
	if err := c.writeKubeconfig(token); err != nil {
		return nil, err
	}

	// kube-controller-manager and kube-scheduler, authenticating with the admin kubeconfig.
	kc := c.Kubeconfig
	kcm, err := c.start("kube-controller-manager", o.Binary, "kube-controller-manager",
		"--kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		"--service-account-private-key-file="+saKey, "--root-ca-file="+c.CAFile,
		"--use-service-account-credentials", "--controllers=*", "--leader-elect=false",
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kcmPort),
		"--kube-api-qps=500", "--kube-api-burst=1000", "--concurrent-gc-syncs=20")
	if err != nil {
		return nil, err
	}
	sched, err := c.start("kube-scheduler", o.Binary, "kube-scheduler",
		"--kubeconfig="+kc, "--authentication-kubeconfig="+kc, "--authorization-kubeconfig="+kc,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(schedPort))
	if err != nil {
		return nil, err
	}
	for _, w := range []struct {
		p    *Process
		port int
	}{{kcm, kcmPort}, {sched, schedPort}} {
		url := "https://127.0.0.1:" + strconv.Itoa(w.port) + "/healthz"
		if err := waitHTTP(ctx, w.p, o.ReadyTimeout, insecureClient, url, ""); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// insecureClient reaches the components' own health endpoints (self-signed serving certificates).
var insecureClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// RestartAPIServer SIGKILLs the kube-apiserver, keeps it down for down, and starts it again on
// the same port with the same flags, certificates and etcd (every object stays); it returns once
// the API server is ready again. Clients see connections refused meanwhile, and their watches
// end: what an API server crash or a control-plane upgrade does to an operator.
func (c *Cluster) RestartAPIServer(ctx context.Context, down time.Duration) error {
	i := slices.IndexFunc(c.procs, func(p *Process) bool { return p.Name == "kube-apiserver" })
	if i < 0 {
		return errors.New("localcluster: no kube-apiserver running")
	}
	old := c.procs[i]
	_ = syscall.Kill(old.Pid(), syscall.SIGKILL)
	<-old.Done()
	select {
	case <-time.After(down):
	case <-ctx.Done():
		return ctx.Err()
	}
	p, err := StartProcess("kube-apiserver", c.LogDir, nil, c.apiBin, c.apiArgs...)
	if err != nil {
		return &ComponentError{Component: "kube-apiserver", LogFile: filepath.Join(c.LogDir, "kube-apiserver.log"), Err: err}
	}
	c.procs[i] = p
	return waitHTTP(ctx, p, 90*time.Second, insecureClient, c.Server+"/readyz", c.apiToken)
}

// Stop stops every component, last started first.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		_ = c.procs[i].Stop(10 * time.Second)
	}
	c.procs = nil
}

// Processes are the running components.
func (c *Cluster) Processes() []*Process { return c.procs }

func (c *Cluster) start(name, bin string, args ...string) (*Process, error) {
	p, err := StartProcess(name, c.LogDir, nil, bin, args...)
	if err != nil {
		return nil, &ComponentError{Component: name, LogFile: filepath.Join(c.LogDir, name+".log"), Err: err}
	}
	c.procs = append(c.procs, p)
	return p, nil
}

func (c *Cluster) writeKubeconfig(token string) error {
	caData, err := os.ReadFile(c.CAFile)
	if err != nil {
		return fmt.Errorf("reading the API server certificate: %w", err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kafkaplane"] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: caData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["kafkaplane"] = &clientcmdapi.Context{Cluster: "kafkaplane", AuthInfo: "admin"}
	cfg.CurrentContext = "kafkaplane"
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, c.Kubeconfig); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	c.Config = &rest.Config{Host: c.Server, BearerToken: token, QPS: 500, Burst: 1000,
		TLSClientConfig: rest.TLSClientConfig{CAData: caData}}
	return nil
}

// waitHTTP polls url until it answers 200, the process exits, or the timeout passes.
func waitHTTP(ctx context.Context, p *Process, timeout time.Duration, client *http.Client, url, token string) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		if exited, err := p.Exited(); exited {
			return &ComponentError{Component: p.Name, LogFile: p.LogFile, Err: fmt.Errorf("exited before becoming ready: %v", err)}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		if time.Now().After(deadline) {
			return &ComponentError{Component: p.Name, LogFile: p.LogFile, Err: fmt.Errorf("not ready after %s: %v", timeout, last)}
		}
		select {
		case <-ctx.Done():
			return &ComponentError{Component: p.Name, LogFile: p.LogFile, Err: ctx.Err()}
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for len(out) < n {
		p, err := FreePort("127.0.0.1")
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func writeServiceAccountKeys(keyFile, pubFile string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generating the service-account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fmt.Errorf("encoding the service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("encoding the service-account public key: %w", err)
	}
	return errors.Join(
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600),
		os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644),
	)
}
