"""How much of a provider's request limit a batch achieves.

Starts the test suite's local OpenAI-compatible server on loopback, set to
refuse (429 with Retry-After) any request beyond N in the last minute, and
runs a batch against it through chat completions with the config's
``requests_per_minute: N``. The figure is the share of N the batch sustains
from its first model request to its last. Target: ≥ 90 % with no failed
region.

    python benchmarks/rate_limit.py --rpm 120 --regions 40
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the local server lives with the tests

from leadgen.config import load_config  # noqa: E402
from leadgen.logs import configure  # noqa: E402
from leadgen.runner import RunOptions, run_batch  # noqa: E402
from tests.fake_openai import FakeOpenAI, web_pool  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpm", type=int, default=120)
    parser.add_argument("--regions", type=int, default=40)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    configure(quiet=True)

    with (
        tempfile.TemporaryDirectory(prefix="leadgen-rate-") as tmp,
        FakeOpenAI(requests_per_minute=args.rpm, lifetime=600) as server,
    ):
        path = _write_config(Path(tmp), server, args)
        run_dir = Path(tmp) / "run"
        started = time.monotonic()
        summary = run_batch(
            load_config(path),
            RunOptions(run_dir=run_dir, executor_factory=web_pool(server)),
        )
        seconds = time.monotonic() - started
        requests = server.model_requests()
        refused = server.state.refused

    admitted = sorted(r.at for r in requests if r.answer != "429")
    span = admitted[-1] - admitted[0]
    achieved = (len(admitted) - 1) / span * 60 if span > 0 else 0.0
    failed = [r.region for r in summary.records if not r.succeeded]
    figures = {
        "limit_rpm": args.rpm,
        "regions": args.regions,
        "model_requests": len(admitted),
        "refused_429": refused,
        "achieved_rpm": round(achieved, 1),
        "share_of_limit": round(achieved / args.rpm, 3),
        "failed_regions": len(failed),
        "seconds": round(seconds, 1),
        "target_share": 0.9,
    }
    print(
        f"{args.regions} regions against a server allowing {args.rpm} requests a "
        f"minute: {len(admitted)} requests in {span:.1f} s = {achieved:.1f} a minute "
        f"({achieved / args.rpm:.1%} of the limit), {refused} refused with 429, "
        f"{len(failed)} failed region(s)"
    )
    print(json.dumps(figures))


def _write_config(folder: Path, server: FakeOpenAI, args: argparse.Namespace) -> Path:
    regions = [
        {"name": f"Region {i:03d}", "zip_codes": ["80202"]} for i in range(args.regions)
    ]
    config = {
        "name": "rate",
        "target": {"description": "Residential property management companies"},
        "geography": {"metro": "Denver", "state": "CO", "regions": regions},
        "agent": {
            "model": "fake-model",
            "base_url": server.base_url,
            "api": "chat_completions",
            "max_turns": 6,
            "timeout_seconds": 600,
            "requests_per_minute": args.rpm,
        },
        "run": {"workers": args.workers, "retries": 0},
    }
    path = folder / "rate.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


if __name__ == "__main__":
    main()
