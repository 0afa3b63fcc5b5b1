"""The resource metrics API's quantities, as metrics-server writes them, read as `kubectl top`
shows them (millicores, MiB); one it cannot read is a clear error, not a wrong figure."""

from __future__ import annotations

import pytest

from hyperscale.clients.kube_api import summed_usage
from hyperscale.errors import ExternalSystemError


def test_cpu_in_nanocores_and_memory_in_kibibytes_summed_over_containers() -> None:
    usage = summed_usage(
        [{"cpu": "123456789n", "memory": "20480Ki"}, {"cpu": "2m", "memory": "1Mi"}]
    )
    assert (usage.cpu_millicores, usage.memory_mib) == (125.5, 21.0)


def test_whole_cores_and_plain_bytes() -> None:
    usage = summed_usage([{"cpu": "2", "memory": "1048576"}])
    assert (usage.cpu_millicores, usage.memory_mib) == (2000.0, 1.0)


@pytest.mark.parametrize("quantity", ["12Xi", "abc", "-5m", ""])
def test_an_unreadable_quantity_is_an_error(quantity: str) -> None:
    with pytest.raises(ExternalSystemError, match="cannot read"):
        summed_usage([{"cpu": quantity, "memory": "1Mi"}])
