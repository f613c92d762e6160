package kubelet

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/controller"
)

func (k *Kubelet) syncPod(ctx context.Context, key controller.Key) (controller.Result, error) {
	pod, err := k.pods.Pods(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		k.stopProc(key.String(), "", 0)
		k.release(key.String(), "")
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if !k.nodes[pod.Spec.NodeName] {
		return controller.Result{}, nil
	}
	if pod.DeletionTimestamp != nil {
		// Containers stopped (SIGTERM, then SIGKILL after the grace period): remove the pod
		// object, as a kubelet does.
		k.stopProc(key.String(), string(pod.UID), grace(pod))
		k.release(key.String(), pod.UID)
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
	var startErr *StartError
	var result controller.Result
	if runner := k.runnerFor(pod); runner != nil && fault != "fail" {
		p, result, err = k.ensureProc(ctx, pod, runner)
		if errors.As(err, &startErr) {
			k.logger.Info("Container cannot start", "pod", key.String(), "reason", startErr.Reason, "message", startErr.Message)
			result, err = controller.Result{RequeueAfter: 10 * time.Second}, nil
		}
		if err != nil {
			k.logger.Error(err, "Starting pod process failed", "pod", key.String())
			return controller.Result{}, err
		}
	} else {
		k.stopProc(key.String(), "", 0)
	}
	if p != nil {
		if l, ok := p.run.(interface{ SetLink(up bool) error }); ok && p.cut != (fault == "netcut") {
			if err := l.SetLink(p.cut); err != nil {
				return controller.Result{}, fmt.Errorf("setting the link of pod %s: %w", key, err)
			}
			p.cut = !p.cut
			k.logger.Info("Pod link set", "pod", key.String(), "up", !p.cut)
		}
	}
	status := k.desiredStatus(ctx, pod, p, fault, startErr)
	if apiequality.Semantic.DeepEqual(comparable(pod.Status), comparable(status)) {
		return result, nil
	}
	updated := pod.DeepCopy()
	updated.Status = status
	if _, err := k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return controller.Result{}, nil
		}
		return controller.Result{}, fmt.Errorf("updating status of pod %s: %w", key, err)
	}
	return result, nil
}

// runnerFor is the first runner that handles the pod, or nil.
func (k *Kubelet) runnerFor(pod *corev1.Pod) Runner {
	for _, r := range k.opts.Runners {
		if r.Handles(pod) {
			return r
		}
	}
	return nil
}

// grace is the pod's termination grace period (30 s when unset, as in the API's default).
func grace(pod *corev1.Pod) time.Duration {
	if pod.DeletionGracePeriodSeconds != nil {
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return 30 * time.Second
}

// release ends the runners' per-pod state of a pod that is gone.
func (k *Kubelet) release(key string, uid types.UID) {
	k.mu.Lock()
	if uid == "" {
		uid = k.sandboxes[key]
	}
	delete(k.sandboxes, key)
	k.mu.Unlock()
	if uid == "" {
		return
	}
	for _, r := range k.opts.Runners {
		if s, ok := r.(Sandboxes); ok {
			s.Release(uid)
		}
	}
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
			cs[i].State, cs[i].LastTerminationState = stateKind(cs[i].State), stateKind(cs[i].LastTerminationState)
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

func (k *Kubelet) desiredStatus(ctx context.Context, pod *corev1.Pod, p *proc, fault string, startErr *StartError) corev1.PodStatus {
	now := metav1.Now()
	started := now
	if pod.Status.StartTime != nil {
		started = *pod.Status.StartTime
	}
	var restarts int32
	ready := fault != "notready" && fault != "crashloop"
	running := true
	var exited, last *ExitStatus
	if p != nil {
		restarts = p.restarts
		ready = ready && p.ready
		started = p.started
		last = p.last
		select {
		case <-p.run.Done():
			st := exitOf(p.run)
			exited, running, ready = &st, false, false
		default:
		}
	}
	if startErr != nil {
		running, ready = false, false
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
		PodIP:     k.ipFor(ctx, pod, p != nil || startErr != nil),
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
		if last != nil {
			cs.LastTerminationState.Terminated = terminated(*last)
		}
		switch {
		case phase == corev1.PodFailed:
			cs.State.Terminated = &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 1, StartedAt: started, FinishedAt: now}
		case startErr != nil:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: startErr.Reason, Message: startErr.Message}
		case exited != nil && pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
			cs.State.Terminated = terminated(*exited)
		case exited != nil:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff",
				Message: fmt.Sprintf("back-off restarting failed container %s (exit code %d)", c.Name, exited.Code)}
			cs.LastTerminationState.Terminated = terminated(*exited)
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

// ipFor keeps a pod's IP: the runner's (a network namespace of its own) when it gives pods
// their own, else loopback 127.1.x.y for process pods (their listeners bind to it) and
// 10.244.x.y for simulated ones.
func (k *Kubelet) ipFor(ctx context.Context, pod *corev1.Pod, process bool) string {
	if r := k.runnerFor(pod); r != nil {
		if pn, ok := r.(PodNetwork); ok {
			ip, err := pn.PodIP(ctx, pod)
			if err != nil {
				k.logger.Error(err, "No pod network", "pod", pod.Namespace+"/"+pod.Name)
				return ""
			}
			k.mu.Lock()
			k.sandboxes[pod.Namespace+"/"+pod.Name] = pod.UID
			k.mu.Unlock()
			return ip
		}
	}
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

func exitOf(r Running) ExitStatus {
	if e, ok := r.(Exited); ok {
		return e.Exit()
	}
	return ExitStatus{Code: 1, Reason: "Error", FinishedAt: time.Now()}
}

func terminated(st ExitStatus) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{ExitCode: st.Code, Reason: st.Reason, Message: st.Message,
		StartedAt: metav1.NewTime(st.StartedAt), FinishedAt: metav1.NewTime(st.FinishedAt)}
}

// restartBackoff is the kubelet's crash-loop back-off before the restart after the n-th: none
// before the first, then 10 s doubling up to 5 minutes.
func restartBackoff(n int32) time.Duration {
	if n <= 0 {
		return 0
	}
	d := 10 * time.Second << min(n-1, 5)
	return min(d, 5*time.Minute)
}

// ensureProc starts the pod's process, or restarts it after it exited (restartPolicy allowing,
// after the crash-loop back-off).
func (k *Kubelet) ensureProc(ctx context.Context, pod *corev1.Pod, runner Runner) (*proc, controller.Result, error) {
	key := pod.Namespace + "/" + pod.Name
	k.mu.Lock()
	p := k.procs[key]
	k.mu.Unlock()
	if p != nil && p.uid != string(pod.UID) {
		k.stopProc(key, "", grace(pod))
		p = nil
	}
	restarts := int32(0)
	var last *ExitStatus
	cut := false // a restarted container keeps its pod's network namespace, and its link's state
	if p != nil {
		select {
		case <-p.run.Done():
			if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
				return p, controller.Result{}, nil
			}
			st := exitOf(p.run)
			if wait := time.Until(st.FinishedAt.Add(restartBackoff(p.restarts))); wait > 0 {
				return p, controller.Result{RequeueAfter: wait}, nil
			}
			restarts, last, cut = p.restarts+1, &st, p.cut
			p = nil
		default:
			return p, controller.Result{}, nil
		}
	}
	run, err := runner.Start(context.WithoutCancel(ctx), pod, k.ipFor(ctx, pod, true))
	if err != nil {
		return nil, controller.Result{}, err
	}
	p = &proc{uid: string(pod.UID), runner: runner, run: run, restarts: restarts, started: metav1.Now(), last: last, cut: cut}
	k.mu.Lock()
	k.procs[key] = p
	k.mu.Unlock()
	go func() {
		<-run.Done()
		if ctx.Err() == nil {
			k.podQueue.EnqueueAfter(controller.Key{Namespace: pod.Namespace, Name: pod.Name}, time.Second)
		}
	}()
	return p, controller.Result{}, nil
}

// stopProc stops a pod's process: SIGTERM, then SIGKILL after grace (the runner's own default
// when zero).
func (k *Kubelet) stopProc(key, uid string, grace time.Duration) {
	k.mu.Lock()
	p := k.procs[key]
	if p != nil && (uid == "" || p.uid == uid) {
		delete(k.procs, key)
	} else {
		p = nil
	}
	k.mu.Unlock()
	if p != nil {
		if g, ok := p.run.(interface{ StopWithin(time.Duration) }); ok && grace > 0 {
			g.StopWithin(grace)
			return
		}
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
