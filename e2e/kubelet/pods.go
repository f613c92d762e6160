package kubelet

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/controller"
)

func (k *Kubelet) syncPod(ctx context.Context, key controller.Key) (controller.Result, error) {
	pod, err := k.pods.Pods(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		k.stopProc(key.String(), "")
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if !k.nodes[pod.Spec.NodeName] {
		return controller.Result{}, nil
	}
	if pod.DeletionTimestamp != nil {
		// Containers stopped: remove the pod object, as a kubelet does.
		k.stopProc(key.String(), string(pod.UID))
		err := k.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return controller.Result{}, fmt.Errorf("deleting pod %s: %w", key, err)
		}
		return controller.Result{}, nil
	}
	if pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded {
		return controller.Result{}, nil
	}

	fault := pod.Annotations[FaultAnnotation]
	var p *proc
	if k.opts.Runner != nil && k.opts.Runner.Handles(pod) && fault != "fail" {
		if p, err = k.ensureProc(ctx, pod); err != nil {
			k.logger.Error(err, "Starting pod process failed", "pod", key.String())
			return controller.Result{}, err
		}
	} else {
		k.stopProc(key.String(), "")
	}
	status := k.desiredStatus(pod, p, fault)
	if apiequality.Semantic.DeepEqual(comparable(pod.Status), comparable(status)) {
		return controller.Result{}, nil
	}
	updated := pod.DeepCopy()
	updated.Status = status
	if _, err := k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("updating status of pod %s: %w", key, err)
	}
	return controller.Result{}, nil
}

// comparable drops the timestamps that change on every computation.
func comparable(s corev1.PodStatus) corev1.PodStatus {
	s = *s.DeepCopy()
	s.StartTime = nil
	for i := range s.Conditions {
		s.Conditions[i].LastTransitionTime = metav1.Time{}
		s.Conditions[i].LastProbeTime = metav1.Time{}
	}
	for _, cs := range [][]corev1.ContainerStatus{s.ContainerStatuses, s.InitContainerStatuses} {
		for i := range cs {
			cs[i].State, cs[i].LastTerminationState = stateKind(cs[i].State), corev1.ContainerState{}
		}
	}
	return s
}

func stateKind(st corev1.ContainerState) corev1.ContainerState {
	switch {
	case st.Running != nil:
		return corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	case st.Waiting != nil:
		return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: st.Waiting.Reason}}
	case st.Terminated != nil:
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: st.Terminated.Reason, ExitCode: st.Terminated.ExitCode}}
	}
	return st
}

func (k *Kubelet) desiredStatus(pod *corev1.Pod, p *proc, fault string) corev1.PodStatus {
	now := metav1.Now()
	started := now
	if pod.Status.StartTime != nil {
		started = *pod.Status.StartTime
	}
	var restarts int32
	ready := fault != "notready" && fault != "crashloop"
	running := true
	if p != nil {
		restarts = p.restarts
		ready = ready && p.ready
		started = p.started
	}
	if fault == "crashloop" {
		running = false
		restarts = max(restarts, 1)
	}
	phase := corev1.PodRunning
	if fault == "fail" {
		phase, ready, running = corev1.PodFailed, false, false
	}
	status := corev1.PodStatus{
		Phase:     phase,
		HostIP:    k.nodeAddress(pod.Spec.NodeName),
		PodIP:     k.ipFor(pod, p != nil),
		StartTime: &started,
		QOSClass:  pod.Status.QOSClass,
	}
	status.HostIPs = []corev1.HostIP{{IP: status.HostIP}}
	status.PodIPs = []corev1.PodIP{{IP: status.PodIP}}
	for _, c := range pod.Spec.InitContainers {
		status.InitContainerStatuses = append(status.InitContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: true,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: started, FinishedAt: started}},
		})
	}
	for _, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image, Ready: ready,
			RestartCount: restarts, Started: ptr.To(running)}
		switch {
		case phase == corev1.PodFailed:
			cs.State.Terminated = &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1, StartedAt: started, FinishedAt: now}
		case !running:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off restarting failed container (simulated)"}
		default:
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: started}
		}
		status.ContainerStatuses = append(status.ContainerStatuses, cs)
	}
	cond := func(t corev1.PodConditionType, ok bool) corev1.PodCondition {
		st := corev1.ConditionFalse
		if ok {
			st = corev1.ConditionTrue
		}
		c := corev1.PodCondition{Type: t, Status: st, LastTransitionTime: now}
		for _, old := range pod.Status.Conditions {
			if old.Type == t && old.Status == st {
				c.LastTransitionTime = old.LastTransitionTime
			}
		}
		return c
	}
	status.Conditions = []corev1.PodCondition{
		cond(corev1.PodScheduled, true),
		cond(corev1.PodReadyToStartContainers, phase == corev1.PodRunning),
		cond(corev1.PodInitialized, true),
		cond(corev1.ContainersReady, ready),
		cond(corev1.PodReady, ready),
	}
	return status
}

func (k *Kubelet) nodeAddress(node string) string {
	for _, n := range k.opts.Nodes {
		if n.Name == node {
			return n.Address
		}
	}
	return ""
}

// ipFor keeps a pod's IP: loopback 127.1.x.y for process pods (their listeners bind to it),
// 10.244.x.y for simulated ones.
func (k *Kubelet) ipFor(pod *corev1.Pod, process bool) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ip, ok := k.ips[string(pod.UID)]; ok {
		return ip
	}
	if pod.Status.PodIP != "" {
		k.ips[string(pod.UID)] = pod.Status.PodIP
		return pod.Status.PodIP
	}
	k.nextIP++
	prefix := "10.244"
	if process {
		prefix = "127.1"
	}
	ip := fmt.Sprintf("%s.%d.%d", prefix, k.nextIP/250, k.nextIP%250+1)
	k.ips[string(pod.UID)] = ip
	return ip
}

// ensureProc starts the pod's process, or restarts it after it exited (restartPolicy allowing).
func (k *Kubelet) ensureProc(ctx context.Context, pod *corev1.Pod) (*proc, error) {
	key := pod.Namespace + "/" + pod.Name
	k.mu.Lock()
	p := k.procs[key]
	k.mu.Unlock()
	if p != nil && p.uid != string(pod.UID) {
		k.stopProc(key, "")
		p = nil
	}
	restarts := int32(0)
	if p != nil {
		select {
		case <-p.run.Done():
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				return p, nil
			}
			restarts = p.restarts + 1
			p = nil
		default:
			return p, nil
		}
	}
	run, err := k.opts.Runner.Start(context.WithoutCancel(ctx), pod, k.ipFor(pod, true))
	if err != nil {
		return nil, err
	}
	p = &proc{uid: string(pod.UID), run: run, restarts: restarts, started: metav1.Now()}
	k.mu.Lock()
	k.procs[key] = p
	k.mu.Unlock()
	go func() {
		<-run.Done()
		if ctx.Err() == nil {
			k.podQueue.EnqueueAfter(controller.Key{Namespace: pod.Namespace, Name: pod.Name}, time.Second)
		}
	}()
	return p, nil
}

func (k *Kubelet) stopProc(key, uid string) {
	k.mu.Lock()
	p := k.procs[key]
	if p != nil && (uid == "" || p.uid == uid) {
		delete(k.procs, key)
	} else {
		p = nil
	}
	k.mu.Unlock()
	if p != nil {
		p.run.Stop()
	}
}

// probe evaluates the processes' readiness twice a second and requeues pods whose readiness
// changed.
func (k *Kubelet) probe(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		k.mu.Lock()
		procs := make(map[string]*proc, len(k.procs))
		for key, p := range k.procs {
			procs[key] = p
		}
		k.mu.Unlock()
		for key, p := range procs {
			ready := p.run.Ready(ctx)
			k.mu.Lock()
			changed := p.ready != ready
			p.ready = ready
			k.mu.Unlock()
			if changed {
				name, _ := splitKey(key)
				k.podQueue.EnqueueKey(name)
			}
		}
	}
}

func splitKey(key string) (controller.Key, bool) {
	for i := range len(key) {
		if key[i] == '/' {
			return controller.Key{Namespace: key[:i], Name: key[i+1:]}, true
		}
	}
	return controller.Key{Name: key}, false
}
