"""`hyperscale kafka health`: replication and availability of the cluster."""
