"""The real node's pod network on the host side: its bridge, and pods kept inside the machine.

Pods live on a CNI bridge with a private range (``local.cluster.real_node.pod_cidr``). They
reach the backing services at the same 127.0.0.1 addresses local processes use: the chained
``hyperscale-loopback`` plugin (cni_loopback.py) sends a pod's 127.0.0.1:PORT to the bridge's
gateway, and the rules here send gateway:PORT on to the host's 127.0.0.1:PORT with 127.0.0.1 as
the source, so to MariaDB, Redis and Kafka a pod looks like any local client. Only the listed
ports; and nothing a pod sends is forwarded off the bridge (no route out of the machine).

Every rule sits in chains of this node's own (named after its bridge), so down removes exactly
them and another run's bridge on the same machine is untouched.
"""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

from hyperscale.config.models import RealNode as RealNodeSettings
from hyperscale.errors import ExternalSystemError
from hyperscale.runner import run

CNI_PLUGIN = "hyperscale-loopback"
#: The CNI plugins the node's network uses, from Debian's containernetworking-plugins.
SYSTEM_PLUGINS = ("bridge", "host-local", "loopback", "portmap")


def gateway(settings: RealNodeSettings) -> str:
    """The bridge's own address: the first of the pod range (the bridge plugin's choice too)."""
    return str(next(ipaddress.ip_network(settings.pod_cidr).hosts()))


def chains(settings: RealNodeSettings) -> dict[str, tuple[str, str]]:
    """Chain name -> (table, the built-in chain that jumps to it)."""
    bridge = settings.bridge
    return {
        f"HS-LOOP-{bridge}": ("nat", "PREROUTING"),
        f"HS-LOOPSRC-{bridge}": ("nat", "INPUT"),
        f"HS-FWD-{bridge}": ("filter", "FORWARD"),
    }


def install_plugins(bin_dir: Path, system_dir: Path) -> None:
    """containerd takes one CNI directory: the system's plugins linked, ours beside them."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name in SYSTEM_PLUGINS:
        link = bin_dir / name
        if not link.is_symlink():
            link.unlink(missing_ok=True)
            link.symlink_to(system_dir / name)
    python = shutil.which("python3", path="/usr/bin:/bin") or "/usr/bin/python3"
    source = (Path(__file__).parent / "cni_loopback.py").read_text(encoding="utf-8")
    plugin = bin_dir / CNI_PLUGIN
    text = f"#!{python}\n{source}"
    if not plugin.is_file() or plugin.read_text(encoding="utf-8") != text:
        partial = plugin.with_suffix(".partial")
        partial.write_text(text, encoding="utf-8")
        partial.chmod(0o755)
        partial.replace(plugin)


def _ip(*args: str) -> None:
    run(["ip", *args], timeout=30, what=f"ip {' '.join(args)}")


def _iptables(*args: str, check: bool = True) -> int:
    what = f"iptables {' '.join(args)}"
    done = run(["iptables", "-w", *args], timeout=30, check=check, what=what)
    return done.returncode


def ensure(settings: RealNodeSettings, ports: list[int]) -> None:
    """The bridge (made before any pod, so its rules can be in place), and this node's chains
    with exactly the rules for ``ports``."""
    bridge = settings.bridge
    net = Path("/sys/class/net") / bridge
    network = ipaddress.ip_network(settings.pod_cidr)
    gw = gateway(settings)
    if not net.exists():
        _ip("link", "add", "name", bridge, "type", "bridge")
        _ip("addr", "add", f"{gw}/{network.prefixlen}", "dev", bridge)
    _ip("link", "set", bridge, "up")
    # A loopback destination (127.0.0.1 after the DNAT) for packets that came in on the bridge.
    Path(f"/proc/sys/net/ipv4/conf/{bridge}/route_localnet").write_text("1\n")
    listed = ",".join(str(p) for p in sorted(set(ports)))
    for chain, (table, parent) in chains(settings).items():
        if _iptables("-t", table, "-N", chain, check=False) != 0:
            _iptables("-t", table, "-F", chain)
        if _iptables("-t", table, "-C", parent, "-j", chain, check=False) != 0:
            _iptables("-t", table, "-I", parent, "-j", chain)
    loop, loopsrc, forward = chains(settings)
    if ports:
        _iptables(
            *("-t", "nat", "-A", loop, "-i", bridge, "-d", f"{gw}/32", "-p", "tcp"),
            *("-m", "multiport", "--dports", listed, "-j", "DNAT", "--to-destination", "127.0.0.1"),
        )
        _iptables(
            *("-t", "nat", "-A", loopsrc, "-s", str(network), "-d", "127.0.0.1/32", "-p", "tcp"),
            *("-m", "multiport", "--dports", listed, "-j", "SNAT", "--to-source", "127.0.0.1"),
        )
    # Pods talk to each other and to the host; nothing of theirs is routed anywhere else.
    _iptables("-t", "filter", "-A", forward, "-i", bridge, "!", "-o", bridge, "-j", "REJECT")
    _iptables("-t", "filter", "-A", forward, "-o", bridge, "!", "-i", bridge, "-j", "REJECT")


def remove(settings: RealNodeSettings) -> bool:
    """This node's chains and the bridge; True when there was a bridge to delete."""
    for chain, (table, parent) in chains(settings).items():
        while _iptables("-t", table, "-D", parent, "-j", chain, check=False) == 0:
            pass
        if _iptables("-t", table, "-F", chain, check=False) == 0:
            _iptables("-t", table, "-X", chain, check=False)
    if not (Path("/sys/class/net") / settings.bridge).exists():
        return False
    _ip("link", "delete", settings.bridge)
    return True


#: kube-proxy's top chain: there while any of its rules are.
KUBE_PROXY_CHAIN = ("nat", "KUBE-SERVICES")
#: kube-proxy's guard for route_localnet (drops outside traffic to 127/8); its --cleanup
#: leaves it, so down removes it, with the sysctl put back as it was before kube-proxy ran.
KUBE_FIREWALL = ("filter", "KUBE-FIREWALL", ("INPUT", "OUTPUT"))
ROUTE_LOCALNET = Path("/proc/sys/net/ipv4/conf/all/route_localnet")


def remember_route_localnet(saved: Path) -> None:
    """Keep the machine's route_localnet from before the first kube-proxy start."""
    if not saved.exists():
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(ROUTE_LOCALNET.read_text(encoding="utf-8"), encoding="utf-8")


def remove_kube_proxy_leftovers(saved: Path) -> None:
    """What `kube-proxy --cleanup` leaves: its KUBE-FIREWALL chain and route_localnet=1."""
    table, chain, parents = KUBE_FIREWALL
    for parent in parents:
        while _iptables("-t", table, "-D", parent, "-j", chain, check=False) == 0:
            pass
    if _iptables("-t", table, "-F", chain, check=False) == 0:
        _iptables("-t", table, "-X", chain, check=False)
    if saved.exists():
        ROUTE_LOCALNET.write_text(saved.read_text(encoding="utf-8"), encoding="utf-8")
        saved.unlink()


def chains_left(settings: RealNodeSettings, *, kube_proxy: bool) -> list[str]:
    """This node's chains still there, and kube-proxy's when it ran here (``kube_proxy``)."""
    wanted = {chain: table for chain, (table, _) in chains(settings).items()}
    if kube_proxy:
        wanted[KUBE_PROXY_CHAIN[1]] = KUBE_PROXY_CHAIN[0]
        wanted[KUBE_FIREWALL[1]] = KUBE_FIREWALL[0]
    return [
        chain
        for chain, table in wanted.items()
        if _iptables("-t", table, "-n", "-L", chain, check=False) == 0
    ]


def require_iptables() -> None:
    if not shutil.which("iptables"):
        raise ExternalSystemError(
            "the real node's pod network needs iptables", hint="apt-get install iptables"
        )
