package processpods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// materialise writes the data of the container's mounted volumes under dir/volumes and returns
// the mount path → directory mapping used to rewrite args and env.
func (r *Runner) materialise(ctx context.Context, pod *corev1.Pod, c corev1.Container, dir, token string) (map[string]string, error) {
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		v, ok := volumes[m.Name]
		if !ok {
			return nil, fmt.Errorf("volume mount %s names no volume", m.Name)
		}
		local := filepath.Join(dir, "volumes", m.Name)
		if err := os.MkdirAll(local, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", local, err)
		}
		if err := r.fill(ctx, pod.Namespace, v.VolumeSource, local, token); err != nil {
			return nil, fmt.Errorf("volume %s: %w", m.Name, err)
		}
		if m.SubPath != "" {
			local = filepath.Join(local, m.SubPath)
		}
		mounts[m.MountPath] = local
	}
	return mounts, nil
}

func (r *Runner) fill(ctx context.Context, namespace string, src corev1.VolumeSource, dir, token string) error {
	switch {
	case src.Secret != nil:
		return r.writeSecret(ctx, namespace, src.Secret.SecretName, src.Secret.Items, src.Secret.Optional, dir)
	case src.ConfigMap != nil:
		return r.writeConfigMap(ctx, namespace, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, dir)
	case src.Projected != nil:
		for _, s := range src.Projected.Sources {
			var err error
			switch {
			case s.Secret != nil:
				err = r.writeSecret(ctx, namespace, s.Secret.Name, s.Secret.Items, s.Secret.Optional, dir)
			case s.ConfigMap != nil:
				err = r.writeConfigMap(ctx, namespace, s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional, dir)
			case s.ServiceAccountToken != nil:
				err = writeFile(dir, s.ServiceAccountToken.Path, []byte(token))
			case s.DownwardAPI != nil:
				// Not needed by our pods; the files stay absent rather than faked.
			}
			if err != nil {
				return err
			}
		}
		if src.Projected.Sources != nil {
			// The standard service-account projection also carries ca.crt and namespace.
			_ = writeFile(dir, "ca.crt", r.opts.CAData)
			_ = writeFile(dir, "namespace", []byte(namespace))
		}
	case src.EmptyDir != nil:
	default:
		return fmt.Errorf("unsupported volume source for a process pod")
	}
	return nil
}

func (r *Runner) writeSecret(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, dir string) error {
	s, err := r.opts.Client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional != nil && *optional {
			return nil
		}
		return fmt.Errorf("reading Secret %s/%s: %w", ns, name, err)
	}
	return writeData(dir, s.Data, items)
}

func (r *Runner) writeConfigMap(ctx context.Context, ns, name string, items []corev1.KeyToPath, optional *bool, dir string) error {
	cm, err := r.opts.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if optional != nil && *optional {
			return nil
		}
		return fmt.Errorf("reading ConfigMap %s/%s: %w", ns, name, err)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return writeData(dir, data, items)
}

func writeData(dir string, data map[string][]byte, items []corev1.KeyToPath) error {
	if len(items) == 0 {
		for k, v := range data {
			if err := writeFile(dir, k, v); err != nil {
				return err
			}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("key %s is missing", it.Key)
		}
		if err := writeFile(dir, it.Path, v); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(dir, name string, data []byte) error {
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}
