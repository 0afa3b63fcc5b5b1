"""`hyperscale report email`: the time to build the digest with every collector against the
slowest single collector alone (the collectors run at once, so the whole should cost little
more than its slowest part).

Run (the local services up and the platform deployed: `hyperscale local up`,
`hyperscale deploy --env local`):
    .venv/bin/python benchmarks/report_email.py [--env local] [--rounds 3]

In each round every collector is timed alone (with its chart), then the whole digest (all
collectors at once, their charts), then rendering and composing the mail; nothing is sent. The
ratio is the whole digest over that round's slowest collector; the median of the rounds is
reported. Goal (issue 16): <= 1.3x.
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

    # Rounds interleave the runs (each collector alone, then the whole digest), and the ratio
    # is taken per round: the machine's load drifts between minutes, not within a round.
    alone: dict[str, list[float]] = {key: [] for key, _, _ in COLLECTORS}
    built, whole, ratios, slowest_keys = [], [], [], []
    for _ in range(args.rounds):
        for key, title, collector in COLLECTORS:
            started = time.perf_counter()
            digest = build_digest(env, app, options, collectors=[(key, title, collector)])
            alone[key].append(time.perf_counter() - started)
            failed = [s.error for s in digest.sections if s.error]
            if failed:
                print(f"{key}: FAILED: {failed[0]}")
        started = time.perf_counter()
        digest = build_digest(env, app, options)
        built.append(time.perf_counter() - started)
        rendered = render_digest(app, digest)
        compose(rendered, env.reports.email.sender, env.reports.email.recipients)
        whole.append(time.perf_counter() - started)
        slowest_key = max(alone, key=lambda k: alone[k][-1])
        slowest_keys.append(slowest_key)
        ratios.append(built[-1] / alone[slowest_key][-1])
    for key, times in alone.items():
        print(f"{key:14s} alone  {statistics.median(times):6.2f} s")
    print(f"slowest single collector per round: {', '.join(slowest_keys)}")
    slowest = statistics.median(max(alone[k][i] for k in alone) for i in range(args.rounds))
    print(f"slowest single collector: {slowest:6.2f} s")
    print(
        f"all {len(COLLECTORS)} collectors (with their charts): {statistics.median(built):6.2f} s"
    )
    print(f"  + rendering and composing the mail: {statistics.median(whole):6.2f} s")
    print(
        f"ratio digest / slowest, median of {args.rounds} rounds: {statistics.median(ratios):.2f}x"
    )
    print(f"  per round: {', '.join(f'{r:.2f}' for r in ratios)} (goal <= 1.3x)")


if __name__ == "__main__":
    main()
