// Package kube turns Kubernetes manifests — Deployments and StatefulSets,
// autoscaling/v2 (and v1) HorizontalPodAutoscalers, Services — into
// capsim scenario tables: the fleets, their autoscalers and the balancers
// in front of them, with comments for what does not map. It is what
// `capsim import kubernetes` prints.
package kube
