// Package deploy holds the tests of authgate's deployment files: the
// Kubernetes manifests strictly decode into the official k8s.io/api types
// and build with kustomize, the compose files pass docker-compose config,
// and every variable they set is one authgate reads. It is a module of its
// own so that the main module stays free of Kubernetes dependencies.
package deploy
