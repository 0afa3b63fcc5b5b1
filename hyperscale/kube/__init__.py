"""All Kubernetes API traffic goes through this package (lightkube, loaded lazily)."""
