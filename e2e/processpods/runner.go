// Package processpods runs the pods of our own images (ghcr.io/kafkaplane/<binary>:…) as local
// processes of the freshly built binaries, so that the Deployments and RBAC the operators write
// are exercised for real without a container runtime. Each pod gets its own loopback address,
// a kubeconfig holding its service account's token (client-go's standard KUBECONFIG loading; the
// product keeps its in-cluster path), its Secrets and ConfigMaps materialised into a directory,
// and its arguments and environment rewritten: mount paths to that directory, listen addresses
// to its address, in-cluster service addresses to the loopback addresses standing in for them.
package processpods

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/localcluster"
	"github.com/kafkaplane/kafkaplane/e2e/podinit"
	"github.com/kafkaplane/kafkaplane/pkg/apis/kafkaplane/v1beta1"
)

// Options configure a Runner.
type Options struct {
	Client kubernetes.Interface
	// Server and CAData address the API server for the pods' kubeconfigs.
	Server string
	CAData []byte
	// Binaries maps binary names (cluster-operator, …) to built executables.
	Binaries map[string]string
	// Dir holds the pods' files; LogDir their logs.
	Dir, LogDir string
	// Podinit and ResolvConf, when set, start each pod process in a mount namespace of its own
	// whose /etc/resolv.conf is ResolvConf(namespace): the cluster DNS, so that in-cluster names
	// resolve as they do in a pod (the process keeps this machine's network).
	Podinit    string
	ResolvConf func(namespace string) string
}

// Runner implements kubelet.Runner for our images.
type Runner struct {
	opts Options

	mu        sync.RWMutex
	addresses map[string]string // in-cluster host or host:port → loopback stand-in
	pods      map[string]*Pod   // by namespace/name, for tests
}

var _ kubelet.Runner = (*Runner)(nil)

// New returns a Runner.
func New(o Options) *Runner {
	return &Runner{opts: o, addresses: map[string]string{}, pods: map[string]*Pod{}}
}

// SetAddress makes every occurrence of from (a host or host:port, e.g.
// my-cluster-kafka-bootstrap.ns.svc:9091) in the args and env of pods started afterwards read to.
func (r *Runner) SetAddress(from, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addresses[from] = to
}

// Pod returns the running process of a pod, if any.
func (r *Runner) Pod(namespace, name string) (*Pod, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.pods[namespace+"/"+name]
	return p, ok
}

// binary names the executable for a pod's image, or "".
func (r *Runner) binary(pod *corev1.Pod) string {
	if len(pod.Spec.Containers) == 0 {
		return ""
	}
	image := pod.Spec.Containers[0].Image
	prefix := v1beta1.ContainerImageRegistry + "/"
	if !strings.HasPrefix(image, prefix) {
		return ""
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(image, prefix), ":")
	name, _, _ = strings.Cut(name, "@")
	if _, ok := r.opts.Binaries[name]; !ok {
		return ""
	}
	return name
}

// Handles implements kubelet.Runner.
func (r *Runner) Handles(pod *corev1.Pod) bool { return r.binary(pod) != "" }

// Pod is a running pod process.
type Pod struct {
	Namespace, Name, IP string
	// Dir holds the pod's files; Kubeconfig its service account's kubeconfig.
	Dir, Kubeconfig string
	// Token is the pod's service account token.
	Token string
	// Args and Env are what the process was started with, after rewriting.
	Args []string
	Env  []string

	proc      *localcluster.Process
	container corev1.Container

	mu       sync.Mutex
	killedBy string
}

// Done implements kubelet.Running.
func (p *Pod) Done() <-chan struct{} { return p.proc.Done() }

// Stop implements kubelet.Running.
func (p *Pod) Stop() { _ = p.proc.Stop(10 * time.Second) }

// Pid is the process ID.
func (p *Pod) Pid() int { return p.proc.Pid() }

// LogFile is the process's log.
func (p *Pod) LogFile() string { return p.proc.LogFile }

// Ready implements kubelet.Running: the readiness probe's HTTP GET, or running without one.
func (p *Pod) Ready(ctx context.Context) bool {
	if exited, _ := p.proc.Exited(); exited {
		return false
	}
	probe := p.container.ReadinessProbe
	if probe == nil || probe.HTTPGet == nil {
		return true
	}
	port := resolvePort(probe.HTTPGet.Port, p.container.Ports)
	if port == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s:%d%s", p.IP, port, probe.HTTPGet.Path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

func resolvePort(port intstr.IntOrString, ports []corev1.ContainerPort) int32 {
	if port.Type == intstr.Int {
		return port.IntVal
	}
	for _, p := range ports {
		if p.Name == port.StrVal {
			return p.ContainerPort
		}
	}
	return 0
}

// Start implements kubelet.Runner.
func (r *Runner) Start(ctx context.Context, pod *corev1.Pod, ip string) (kubelet.Running, error) {
	name := r.binary(pod)
	c := pod.Spec.Containers[0]
	dir := filepath.Join(r.opts.Dir, pod.Namespace, pod.Name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("cleaning %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	p := &Pod{Namespace: pod.Namespace, Name: pod.Name, IP: ip, Dir: dir, container: c}

	token, err := r.serviceAccountToken(ctx, pod)
	if err != nil {
		return nil, err
	}
	p.Token = token
	if p.Kubeconfig, err = r.writeKubeconfig(dir, token); err != nil {
		return nil, err
	}
	mounts, err := r.materialise(ctx, pod, c, dir, token)
	if err != nil {
		return nil, err
	}
	env, err := r.environment(ctx, pod, c, ip)
	if err != nil {
		return nil, err
	}
	rw := r.rewriter(mounts, ip)
	args := append(slicesTail(c.Command), c.Args...)
	for i := range args {
		args[i] = rw.Replace(args[i])
	}
	for i := range env {
		env[i] = rw.Replace(env[i])
	}
	env = append(env, "KUBECONFIG="+p.Kubeconfig, "HOME="+dir, "PATH="+os.Getenv("PATH"))
	p.Args, p.Env = args, env

	logName := pod.Namespace + "_" + pod.Name
	if r.opts.Podinit != "" && r.opts.ResolvConf != nil {
		p.proc, err = r.startWithDNS(pod, dir, logName, env, r.opts.Binaries[name], args)
	} else {
		p.proc, err = localcluster.StartProcessEnv(logName, r.opts.LogDir, env, r.opts.Binaries[name], args...)
	}
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.pods[pod.Namespace+"/"+pod.Name] = p
	r.mu.Unlock()
	go p.watchLiveness(context.WithoutCancel(ctx))
	return p, nil
}

// startWithDNS starts the process through podinit with the cluster DNS as its resolver.
func (r *Runner) startWithDNS(pod *corev1.Pod, dir, logName string, env []string, bin string, args []string) (*localcluster.Process, error) {
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte(r.opts.ResolvConf(pod.Namespace)), 0o644); err != nil {
		return nil, fmt.Errorf("writing the pod's resolv.conf: %w", err)
	}
	spec := &podinit.Spec{Mounts: []podinit.Bind{{Source: resolv, Target: "/etc/resolv.conf", ReadOnly: true}},
		Env: env, Args: append([]string{bin}, args...), Dir: dir}
	specFile := filepath.Join(dir, "podinit.json")
	if err := podinit.Write(specFile, spec); err != nil {
		return nil, err
	}
	return localcluster.StartProcessNS(logName, r.opts.LogDir, env, podinit.Cloneflags, r.opts.Podinit, specFile)
}

// slicesTail drops the command's first element (the image's binary, which we replace by the
// built executable) and keeps the rest as leading arguments.
func slicesTail(cmd []string) []string {
	if len(cmd) <= 1 {
		return nil
	}
	return append([]string(nil), cmd[1:]...)
}

func (r *Runner) serviceAccountToken(ctx context.Context, pod *corev1.Pod) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := r.opts.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: ptr.To[int64](24 * 3600),
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for service account %s/%s: %w", pod.Namespace, sa, err)
	}
	return tr.Status.Token, nil
}

func (r *Runner) writeKubeconfig(dir, token string) (string, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["in-cluster"] = &clientcmdapi.Cluster{Server: r.opts.Server, CertificateAuthorityData: r.opts.CAData}
	cfg.AuthInfos["service-account"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["in-cluster"] = &clientcmdapi.Context{Cluster: "in-cluster", AuthInfo: "service-account"}
	cfg.CurrentContext = "in-cluster"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return "", fmt.Errorf("writing the pod's kubeconfig: %w", err)
	}
	return path, nil
}

// rewriter replaces mount paths (longest first), in-cluster addresses, and wildcard listen
// addresses (":8080", "0.0.0.0:8080") by the pod's own.
func (r *Runner) rewriter(mounts map[string]string, ip string) *replacer {
	var pairs []string
	paths := make([]string, 0, len(mounts))
	for m := range mounts {
		paths = append(paths, m)
	}
	sort.Slice(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	for _, m := range paths {
		pairs = append(pairs, m, mounts[m])
	}
	r.mu.RLock()
	addrs := make([]string, 0, len(r.addresses))
	for a := range r.addresses {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return len(addrs[i]) > len(addrs[j]) })
	for _, a := range addrs {
		pairs = append(pairs, a, r.addresses[a])
	}
	r.mu.RUnlock()
	pairs = append(pairs, "0.0.0.0:", ip+":", "=:", "="+ip+":")
	return &replacer{strings.NewReplacer(pairs...), ip}
}

// replacer also rewrites a value that is only ":port".
type replacer struct {
	*strings.Replacer
	ip string
}

// Replace applies the rewrites to s.
func (r *replacer) Replace(s string) string {
	if strings.HasPrefix(s, ":") && len(s) > 1 && strings.Trim(s[1:], "0123456789") == "" {
		return r.ip + s
	}
	return r.Replacer.Replace(s)
}
