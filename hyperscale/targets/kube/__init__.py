"""The Kubernetes target's parts: waves and pruning (apply), kstatus-like waits and failure
naming (readiness), the per-environment Lease (lock), the ConfigMap-backed history (journal),
and what runs there (status). hyperscale.targets.kubernetes puts them behind the Target protocol.
"""
