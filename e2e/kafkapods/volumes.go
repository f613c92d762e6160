package kafkapods

import (
	"bytes"
	"context"
	"time"

	"fmt"
	authenticationv1 "k8s.io/api/authentication/v1"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kafkaplane/kafkaplane/e2e/clusterdns"
	"github.com/kafkaplane/kafkaplane/e2e/kubelet"
	"github.com/kafkaplane/kafkaplane/e2e/podinit"
)

// mounts prepares the container's volumes as a kubelet does and returns them as binds: Secrets
// and ConfigMaps written with their defaultMode or item modes (group-readable by fsGroup),
// emptyDirs that live as long as the pod, claims' directories that outlive it.
func (r *Runner) mounts(ctx context.Context, pod *corev1.Pod, c corev1.Container, sb *sandbox, fsGroup *int64) ([]podinit.Bind, error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	var binds []podinit.Bind
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return nil, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("volume mount %s names no volume", m.Name)}
		}
		src, readOnly, err := r.volume(ctx, pod, v, sb, fsGroup)
		if err != nil {
			return nil, err
		}
		if m.SubPath != "" {
			src = filepath.Join(src, m.SubPath)
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("kafkapods: %w", err)
			}
		}
		binds = append(binds, podinit.Bind{Source: src, Target: m.MountPath, ReadOnly: m.ReadOnly || readOnly})
	}
	return binds, nil
}

// volume returns the host directory backing a volume, and whether it is read-only by nature.
func (r *Runner) volume(ctx context.Context, pod *corev1.Pod, v corev1.Volume, sb *sandbox, fsGroup *int64) (string, bool, error) {
	switch {
	case v.EmptyDir != nil:
		dir := filepath.Join(sb.dir, "empty", v.Name)
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return "", false, fmt.Errorf("kafkapods: %w", err)
			}
			if err := ownVolume(dir, fsGroup, 0o777); err != nil {
				return "", false, err
			}
		}
		return dir, false, nil
	case v.PersistentVolumeClaim != nil:
		dir, err := r.claimDir(ctx, pod.Namespace, v.PersistentVolumeClaim.ClaimName)
		if err != nil {
			return "", false, err
		}
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", false, fmt.Errorf("kafkapods: %w", err)
			}
			if err := ownVolume(dir, fsGroup, 0o775); err != nil {
				return "", false, err
			}
		}
		return dir, v.PersistentVolumeClaim.ReadOnly, nil
	case v.Secret != nil, v.ConfigMap != nil, v.Projected != nil:
		// Written afresh at each container start (a kubelet also refreshes a running pod's
		// copy; our pods read theirs at start).
		dir := filepath.Join(sb.dir, "volumes", v.Name)
		if err := os.RemoveAll(dir); err != nil {
			return "", false, fmt.Errorf("kafkapods: %w", err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", false, fmt.Errorf("kafkapods: %w", err)
		}
		if err := r.writeProjection(ctx, pod, v, dir, fsGroup); err != nil {
			return "", false, err
		}
		return dir, true, nil
	}
	return "", false, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("volume %s: a source the harness does not provide", v.Name)}
}

// ownVolume gives a writable volume to fsGroup with the setgid bit, as the kubelet does.
func ownVolume(dir string, fsGroup *int64, mode os.FileMode) error {
	if fsGroup == nil {
		return os.Chmod(dir, mode)
	}
	if err := os.Chown(dir, 0, int(*fsGroup)); err != nil {
		return fmt.Errorf("kafkapods: %w", err)
	}
	return os.Chmod(dir, mode|os.ModeSetgid)
}

type source struct {
	data        map[string][]byte
	items       []corev1.KeyToPath
	defaultMode *int32
	optional    bool
	what        string
}

func (r *Runner) writeProjection(ctx context.Context, pod *corev1.Pod, v corev1.Volume, dir string, fsGroup *int64) error {
	sources, err := r.sources(ctx, pod, v, false)
	if err != nil {
		return err
	}
	for _, s := range sources {
		if err := writeSource(dir, s, fsGroup); err != nil {
			return err
		}
	}
	return nil
}

// VolumeSyncPeriod is how often a running container's Secret and ConfigMap volumes are brought
// up to date, as a kubelet does (its period is about a minute; shorter here, for quick tests).
const VolumeSyncPeriod = 10 * time.Second

// syncVolumes keeps the container's Secret, ConfigMap and projected volumes up to date while it
// runs: a changed key's file is replaced atomically (a new file renamed over the old), so a
// process that watches it (Kafka's keystore reload) sees the new content whole. Volumes mounted
// with a subPath are not updated, as a kubelet does not; a source that cannot be read leaves
// the files as they are; service-account tokens are not renewed.
func (r *Runner) syncVolumes(ctx context.Context, pod *corev1.Pod, c corev1.Container, sb *sandbox, fsGroup *int64) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	t := time.NewTicker(VolumeSyncPeriod)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, m := range c.VolumeMounts {
			v, ok := volumes[m.Name]
			if !ok || m.SubPath != "" || (v.Secret == nil && v.ConfigMap == nil && v.Projected == nil) {
				continue
			}
			sources, err := r.sources(ctx, pod, v, true)
			if err != nil {
				continue
			}
			dir := filepath.Join(sb.dir, "volumes", v.Name)
			for _, s := range sources {
				_ = writeSource(dir, s, fsGroup)
			}
		}
	}
}

// sources are a volume's Secrets, ConfigMaps and projections; refresh leaves out the
// service-account tokens.
func (r *Runner) sources(ctx context.Context, pod *corev1.Pod, v corev1.Volume, refresh bool) ([]source, error) {
	ns := pod.Namespace
	var sources []source
	var err error
	switch {
	case v.Secret != nil:
		var s source
		s, err = r.secret(ctx, ns, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional)
		s.defaultMode = v.Secret.DefaultMode
		sources = append(sources, s)
	case v.ConfigMap != nil:
		var s source
		s, err = r.configMap(ctx, ns, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional)
		s.defaultMode = v.ConfigMap.DefaultMode
		sources = append(sources, s)
	case v.Projected != nil:
		for _, p := range v.Projected.Sources {
			var s source
			switch {
			case p.Secret != nil:
				s, err = r.secret(ctx, ns, p.Secret.Name, p.Secret.Items, p.Secret.Optional)
			case p.ConfigMap != nil:
				s, err = r.configMap(ctx, ns, p.ConfigMap.Name, p.ConfigMap.Items, p.ConfigMap.Optional)
			case p.ServiceAccountToken != nil:
				if refresh {
					continue
				}
				s, err = r.token(ctx, pod, p.ServiceAccountToken)
			case p.DownwardAPI != nil:
				s, err = downward(pod, p.DownwardAPI.Items)
			default:
				return nil, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: fmt.Sprintf("projected volume %s: a source the harness does not provide", v.Name)}
			}
			if err != nil {
				return nil, err
			}
			s.defaultMode = v.Projected.DefaultMode
			sources = append(sources, s)
		}
	}
	if err != nil {
		return nil, err
	}
	return sources, nil
}

// token is a projected service-account token for the pod, bound to it, as the kubelet asks for.
func (r *Runner) token(ctx context.Context, pod *corev1.Pod, p *corev1.ServiceAccountTokenProjection) (source, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	exp := int64(3600)
	if p.ExpirationSeconds != nil {
		exp = *p.ExpirationSeconds
	}
	var aud []string
	if p.Audience != "" {
		aud = []string{p.Audience}
	}
	tr, err := r.opts.Client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{Audiences: aud, ExpirationSeconds: &exp,
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}},
	}, metav1.CreateOptions{})
	if err != nil {
		return source{}, &kubelet.StartError{Reason: "ContainerCreating", Message: fmt.Sprintf("service account token: %v", err)}
	}
	return source{data: map[string][]byte{p.Path: []byte(tr.Status.Token)}, what: "token"}, nil
}

// downward is a downwardAPI projection of the pod's metadata fields.
func downward(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile) (source, error) {
	s := source{data: map[string][]byte{}, what: "downwardAPI"}
	for _, it := range items {
		if it.FieldRef == nil {
			return source{}, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: "downwardAPI: only fieldRef items are provided by the harness"}
		}
		var v string
		switch it.FieldRef.FieldPath {
		case "metadata.namespace":
			v = pod.Namespace
		case "metadata.name":
			v = pod.Name
		case "metadata.uid":
			v = string(pod.UID)
		default:
			return source{}, &kubelet.StartError{Reason: "CreateContainerConfigError", Message: "downwardAPI: field " + it.FieldRef.FieldPath + " is not provided by the harness"}
		}
		s.data[it.Path] = []byte(v)
	}
	return s, nil
}

func (r *Runner) secret(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool) (source, error) {
	s, err := r.opts.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional != nil && *optional {
			return source{}, nil
		}
		return source{}, &kubelet.StartError{Reason: "ContainerCreating", Message: fmt.Sprintf("MountVolume.SetUp failed: secret %q: %v", name, err)}
	}
	return source{data: s.Data, items: items, what: "Secret " + name}, nil
}

func (r *Runner) configMap(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool) (source, error) {
	cm, err := r.opts.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional != nil && *optional {
			return source{}, nil
		}
		return source{}, &kubelet.StartError{Reason: "ContainerCreating", Message: fmt.Sprintf("MountVolume.SetUp failed: configmap %q: %v", name, err)}
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return source{data: data, items: items, what: "ConfigMap " + name}, nil
}

// writeSource writes a Secret's or ConfigMap's keys with their modes: an item's mode, else the
// volume's defaultMode, else 0644; with fsGroup, files are the group's and group-readable.
func writeSource(dir string, s source, fsGroup *int64) error {
	mode := os.FileMode(0o644)
	if s.defaultMode != nil {
		mode = os.FileMode(*s.defaultMode)
	}
	type file struct {
		path string
		data []byte
		mode os.FileMode
	}
	var files []file
	if len(s.items) == 0 {
		for k, v := range s.data {
			files = append(files, file{k, v, mode})
		}
	} else {
		for _, it := range s.items {
			v, ok := s.data[it.Key]
			if !ok {
				return &kubelet.StartError{Reason: "ContainerCreating", Message: fmt.Sprintf("%s has no key %s", s.what, it.Key)}
			}
			m := mode
			if it.Mode != nil {
				m = os.FileMode(*it.Mode)
			}
			files = append(files, file{it.Path, v, m})
		}
	}
	for _, f := range files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("kafkapods: %w", err)
		}
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		// Written beside and renamed over: a reader sees the old file or the new one, whole.
		tmp := filepath.Join(filepath.Dir(p), ".."+filepath.Base(p)+".tmp")
		if err := os.WriteFile(tmp, f.data, 0o600); err != nil {
			return fmt.Errorf("kafkapods: %w", err)
		}
		m := f.mode
		if fsGroup != nil {
			if err := os.Chown(tmp, 0, int(*fsGroup)); err != nil {
				return fmt.Errorf("kafkapods: %w", err)
			}
			m |= 0o040
		}
		if err := os.Chmod(tmp, m); err != nil {
			return fmt.Errorf("kafkapods: %w", err)
		}
		if err := os.Rename(tmp, p); err != nil {
			return fmt.Errorf("kafkapods: %w", err)
		}
	}
	return nil
}

// etcFiles are the pod's /etc/hosts, /etc/resolv.conf (the cluster DNS), /etc/hostname and the
// image's /etc/passwd and /etc/group (appuser).
func (r *Runner) etcFiles(pod *corev1.Pod, sb *sandbox, ip string) ([]podinit.Bind, error) {
	host := hostname(pod)
	fqdn := ""
	if pod.Spec.Subdomain != "" {
		fqdn = fmt.Sprintf("%s.%s.%s.svc.%s", host, pod.Spec.Subdomain, pod.Namespace, clusterdns.Domain)
	}
	hosts := "# Kubernetes-managed hosts file (harness).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	hosts += strings.TrimSpace(ip+"\t"+fqdn+"\t"+host) + "\n"
	for _, a := range pod.Spec.HostAliases {
		hosts += a.IP + "\t" + strings.Join(a.Hostnames, "\t") + "\n"
	}
	resolv := "nameserver 127.0.0.1\n"
	if r.opts.DNS != nil {
		resolv = r.opts.DNS.ResolvConf(pod.Namespace)
	}
	files := map[string]string{
		"/etc/hosts":       hosts,
		"/etc/resolv.conf": resolv,
		"/etc/hostname":    host + "\n",
		"/etc/passwd":      "root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000::/home/appuser:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
		"/etc/group":       "root:x:0:\nappuser:x:1000:\nnogroup:x:65534:\n",
	}
	dir := filepath.Join(sb.dir, "etc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("kafkapods: %w", err)
	}
	var binds []podinit.Bind
	for _, target := range []string{"/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/etc/passwd", "/etc/group"} {
		p := filepath.Join(dir, filepath.Base(target))
		if err := os.WriteFile(p, []byte(files[target]), 0o644); err != nil {
			return nil, fmt.Errorf("kafkapods: %w", err)
		}
		binds = append(binds, podinit.Bind{Source: p, Target: target, ReadOnly: true})
	}
	return binds, nil
}
