"""`hyperscale render`: templates -> manifests (and Terraform roots), validated with real tools."""
