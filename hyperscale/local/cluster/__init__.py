"""`hyperscale local cluster`: a real Kubernetes control plane on this machine, kwok for nodes."""
