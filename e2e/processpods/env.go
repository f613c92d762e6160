package processpods

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// environment resolves the container's env and envFrom as a kubelet would.
func (r *Runner) environment(ctx context.Context, pod *corev1.Pod, c corev1.Container, ip string) ([]string, error) {
	return Environment(ctx, r.opts.Client, pod, c, ip, ip)
}

// Environment resolves a container's env and envFrom as a kubelet would, including the downward
// API fields (metadata, labels and annotations, status.podIP and status.hostIP, resources).
func Environment(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, c corev1.Container, podIP, hostIP string) ([]string, error) {
	var env []string
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.SecretRef != nil:
			s, err := client.CoreV1().Secrets(pod.Namespace).Get(ctx, from.SecretRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("envFrom Secret %s: %w", from.SecretRef.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		case from.ConfigMapRef != nil:
			cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, from.ConfigMapRef.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("envFrom ConfigMap %s: %w", from.ConfigMapRef.Name, err)
			}
			data = cm.Data
		}
		for k, v := range data {
			env = append(env, from.Prefix+k+"="+v)
		}
	}
	for _, e := range c.Env {
		v, err := envValue(ctx, client, pod, e, podIP, hostIP)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		env = append(env, e.Name+"="+v)
	}
	return env, nil
}

func envValue(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, e corev1.EnvVar, podIP, hostIP string) (string, error) {
	if e.ValueFrom == nil {
		return e.Value, nil
	}
	switch vf := e.ValueFrom; {
	case vf.FieldRef != nil:
		switch vf.FieldRef.FieldPath {
		case "metadata.name":
			return pod.Name, nil
		case "metadata.namespace":
			return pod.Namespace, nil
		case "metadata.uid":
			return string(pod.UID), nil
		case "spec.nodeName":
			return pod.Spec.NodeName, nil
		case "spec.serviceAccountName":
			return pod.Spec.ServiceAccountName, nil
		case "status.podIP":
			return podIP, nil
		case "status.hostIP":
			return hostIP, nil
		}
		if key, ok := downwardKey(vf.FieldRef.FieldPath, "metadata.labels"); ok {
			return pod.Labels[key], nil
		}
		if key, ok := downwardKey(vf.FieldRef.FieldPath, "metadata.annotations"); ok {
			return pod.Annotations[key], nil
		}
		return "", fmt.Errorf("unsupported fieldRef %s", vf.FieldRef.FieldPath)
	case vf.SecretKeyRef != nil:
		s, err := client.CoreV1().Secrets(pod.Namespace).Get(ctx, vf.SecretKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return string(s.Data[vf.SecretKeyRef.Key]), nil
	case vf.ResourceFieldRef != nil:
		return resourceValue(pod, vf.ResourceFieldRef)
	case vf.ConfigMapKeyRef != nil:
		cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, vf.ConfigMapKeyRef.Name, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		return cm.Data[vf.ConfigMapKeyRef.Key], nil
	}
	return "", fmt.Errorf("unsupported valueFrom")
}

// downwardKey parses metadata.labels['key'].
func downwardKey(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, "']")
}

// resourceValue is what the downward API gives for a container's request or limit: the quantity
// divided by the divisor (default 1), rounded up, as the kubelet computes it.
func resourceValue(pod *corev1.Pod, ref *corev1.ResourceFieldSelector) (string, error) {
	c := pod.Spec.Containers[0]
	if ref.ContainerName != "" {
		for _, cc := range pod.Spec.Containers {
			if cc.Name == ref.ContainerName {
				c = cc
			}
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("unsupported resourceFieldRef %s", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(name)]
	if !ok {
		return "", fmt.Errorf("resourceFieldRef %s: the container sets none (a node's allocatable is not simulated)", ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	v := float64(q.MilliValue()) / float64(divisor.MilliValue())
	return strconv.FormatInt(int64(math.Ceil(v)), 10), nil
}
