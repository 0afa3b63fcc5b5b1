"""A CNI plugin, chained after the bridge: a pod's 127.0.0.1:PORT reaches the host's 127.0.0.1:PORT.

The backing services (Kafka, MariaDB, Redis) listen on the host's loopback only, and Kafka
tells its clients to come back to 127.0.0.1:PORT, so a pod must find them at the very same
addresses a local process uses. For each listed port, inside the pod's network namespace:
connections to 127.0.0.1:PORT are sent to the bridge's gateway (DNAT, with route_localnet so a
loopback address may leave through eth0, and the pod's own address as source). On the host,
`cluster up --real-node` sends what reaches the gateway on those ports to 127.0.0.1 (see
realnode_network.py). Nothing else of the host's loopback is reachable from a pod.

containerd runs it as a program (``<state>/cluster/node/cni/bin/hyperscale-loopback``, the
system's python3, standard library only): the CNI protocol is environment variables, the
network configuration on stdin, and the result on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

SUPPORTED = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]


def _in_pod(netns: str, *argv: str) -> None:
    subprocess.run(["nsenter", f"--net={netns}", *argv], check=True, capture_output=True)


def add(config: dict[str, Any], netns: str, ifname: str) -> dict[str, Any]:
    ports = [int(p) for p in config["ports"]]
    gateway = str(config["gateway"])
    _in_pod(
        netns,
        "sysctl",
        "-q",
        "-w",
        "net.ipv4.conf.all.route_localnet=1",
        f"net.ipv4.conf.{ifname}.route_localnet=1",
    )
    if ports:
        _in_pod(
            netns,
            *("iptables", "-w", "-t", "nat", "-A", "OUTPUT", "-d", "127.0.0.1/32", "-p", "tcp"),
            *("-m", "multiport", "--dports", ",".join(str(p) for p in ports)),
            *("-j", "DNAT", "--to-destination", gateway),
        )
        _in_pod(
            netns,
            *("iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-o", ifname),
            *("-s", "127.0.0.0/8", "-j", "MASQUERADE"),
        )
    result: dict[str, Any] = config.get("prevResult") or {"cniVersion": config["cniVersion"]}
    return result


def main() -> int:
    command = os.environ.get("CNI_COMMAND", "")
    if command == "VERSION":
        json.dump({"cniVersion": "1.0.0", "supportedVersions": SUPPORTED}, sys.stdout)
        return 0
    config = json.load(sys.stdin)
    if command == "ADD":
        try:
            result = add(config, os.environ["CNI_NETNS"], os.environ.get("CNI_IFNAME", "eth0"))
        except (subprocess.CalledProcessError, KeyError, ValueError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            json.dump(
                {
                    "cniVersion": config.get("cniVersion", "1.0.0"),
                    "code": 999,
                    "msg": f"hyperscale-loopback: {exc}",
                    "details": detail.decode(errors="replace").strip(),
                },
                sys.stdout,
            )
            return 1
        json.dump(result, sys.stdout)
        return 0
    # DEL and CHECK: the rules live and die with the pod's network namespace.
    return 0


if __name__ == "__main__":
    sys.exit(main())
