"""`hyperscale report email`: the time to build the digest with every collector against the
slowest single collector alone (the collectors run at once, so the whole should cost little
more than its slowest part).

Run (the local services up and the platform deployed: `hyperscale local up`,
`hyperscale deploy --env local`):
    .venv/bin/python benchmarks/report_email.py [--env local] [--rounds 3]

Each collector is timed alone (the median of --rounds), then the whole digest (collect, the
history charts, rendering HTML and text, drawing the PNGs; nothing sent). The ratio is the
whole digest's median over the slowest collector's median. Goal (issue 16): <= 1.3x.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hyperscale.config.loader import load_environment  # noqa: E402
from hyperscale.context import AppContext  # noqa: E402
from hyperscale.reports.email.collectors import COLLECTORS  # noqa: E402
from hyperscale.reports.email.core import EmailOptions, build_digest  # noqa: E402
from hyperscale.reports.email.message import compose, render_digest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="local")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    app = AppContext.from_os()
    env = load_environment(app, args.env)
    options = EmailOptions(dry_run=True)

    alone: dict[str, float] = {}
    for key, title, collector in COLLECTORS:
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            digest = build_digest(env, app, options, collectors=[(key, title, collector)])
            times.append(time.perf_counter() - started)
        failed = [s.error for s in digest.sections if s.error]
        alone[key] = statistics.median(times)
        print(f"{key:14s} alone  {alone[key]:6.2f} s  {'FAILED: ' + failed[0] if failed else ''}")

    whole, built = [], []
    for _ in range(args.rounds):
        started = time.perf_counter()
        digest = build_digest(env, app, options)
        built.append(time.perf_counter() - started)
        rendered = render_digest(app, digest)
        compose(rendered, env.reports.email.sender, env.reports.email.recipients)
        whole.append(time.perf_counter() - started)
    slowest_key = max(alone, key=lambda k: alone[k])
    slowest = alone[slowest_key]
    total, digest_only = statistics.median(whole), statistics.median(built)
    print(f"slowest single collector ({slowest_key}): {slowest:6.2f} s")
    print(f"sum of the collectors alone: {sum(alone.values()):6.2f} s")
    print(f"all {len(COLLECTORS)} collectors (with their charts): {digest_only:6.2f} s")
    print(f"  + rendering and composing the mail: {total:6.2f} s (medians of {args.rounds})")
    print(f"ratio digest / slowest: {digest_only / slowest:.2f}x (goal <= 1.3x)")
    print(f"ratio digest and mail / slowest: {total / slowest:.2f}x")


if __name__ == "__main__":
    main()
