package kubelet

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kafkaplane/kafkaplane/pkg/controller"
)

// syncPVC provisions a volume for a pending claim of the simulator's class, and resizes bound
// volumes when the claim asks for more.
func (k *Kubelet) syncPVC(ctx context.Context, key controller.Key) (controller.Result, error) {
	pvc, err := k.pvcs.PersistentVolumeClaims(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if pvc.Spec.StorageClassName == nil || pvc.DeletionTimestamp != nil {
		return controller.Result{}, nil
	}
	class := *pvc.Spec.StorageClassName
	if ours, err := k.provisions(ctx, class); err != nil || !ours {
		return controller.Result{}, err
	}
	want := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	pvName := "pvc-" + string(pvc.UID)
	if pvc.Spec.VolumeName == "" {
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: pvName, Annotations: map[string]string{
				"pv.kubernetes.io/provisioned-by": Provisioner}},
			Spec: corev1.PersistentVolumeSpec{
				Capacity:                      corev1.ResourceList{corev1.ResourceStorage: want},
				AccessModes:                   pvc.Spec.AccessModes,
				PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
				StorageClassName:              class,
				VolumeMode:                    pvc.Spec.VolumeMode,
				ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
					Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
				PersistentVolumeSource: corev1.PersistentVolumeSource{
					HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kafkaplane-sim/" + pvName}},
			},
		}
		if _, err := k.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return controller.Result{}, fmt.Errorf("provisioning a volume for %s: %w", key, err)
		}
		return controller.Result{}, nil // the controller-manager's binder binds it
	}
	pv, err := k.client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		return controller.Result{}, fmt.Errorf("reading the volume of %s: %w", key, err)
	}
	if have := pv.Spec.Capacity[corev1.ResourceStorage]; have.Cmp(want) < 0 {
		pv.Spec.Capacity[corev1.ResourceStorage] = want
		if _, err := k.client.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{}); err != nil {
			return controller.Result{}, fmt.Errorf("resizing the volume of %s: %w", key, err)
		}
	}
	if got := pvc.Status.Capacity[corev1.ResourceStorage]; pvc.Status.Phase == corev1.ClaimBound && got.Cmp(want) < 0 {
		updated := pvc.DeepCopy()
		updated.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: want}
		updated.Status.AllocatedResources = corev1.ResourceList{corev1.ResourceStorage: want}
		updated.Status.Conditions = nil
		if _, err := k.client.CoreV1().PersistentVolumeClaims(pvc.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
			return controller.Result{}, fmt.Errorf("recording the new size of %s: %w", key, err)
		}
	}
	return controller.Result{}, nil
}

// provisions reports whether the simulator provisions volumes of class: its own, another with
// its provisioner, or (AnyStorageClass) one that does not exist yet, which it then creates.
func (k *Kubelet) provisions(ctx context.Context, class string) (bool, error) {
	if class == StorageClassName {
		return true, nil
	}
	sc, err := k.client.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && k.opts.AnyStorageClass {
		sc = &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class, Annotations: map[string]string{
			"kafkaplane.io/sandbox": "created for a claim that names it"}},
			Provisioner: Provisioner, AllowVolumeExpansion: ptr.To(true),
			VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate)}
		if _, err := k.client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("creating StorageClass %s: %w", class, err)
		}
		k.logger.Info("Created a StorageClass a claim names", "class", class)
		return true, nil
	}
	if err != nil {
		return false, nil // a missing class: the claim stays Pending, as in a cluster
	}
	return sc.Provisioner == Provisioner, nil
}

// syncService gives a LoadBalancer service an ingress address on loopback.
func (k *Kubelet) syncService(ctx context.Context, key controller.Key) (controller.Result, error) {
	svc, err := k.services.Services(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) > 0 {
		return controller.Result{}, nil
	}
	k.mu.Lock()
	k.nextLBIP++
	ip := fmt.Sprintf("127.0.200.%d", k.nextLBIP%250+1)
	k.mu.Unlock()
	updated := svc.DeepCopy()
	updated.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	if _, err := k.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return controller.Result{}, fmt.Errorf("assigning a load balancer address to %s: %w", key, err)
	}
	return controller.Result{}, nil
}
