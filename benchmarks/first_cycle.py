"""Messages a first `watch --once` sends: per custodian, per team channel, in all.

    python benchmarks/first_cycle.py                          # medium tenant, seed 0
    python benchmarks/first_cycle.py --size small --first-cycle all
    python benchmarks/first_cycle.py --dir /tmp/medium        # reuse a written tenant

Writes a synthetic tenant (`mailwarden synth`), serves a local SMTP server and a local
JSON webhook on 127.0.0.1, and runs `python -m mailwarden watch --once --from-dir` as a
subprocess with a routing file that sends every alert and finding to both. Prints one
JSON object: emails per recipient (the most any one person got, and the total), webhook
posts, and the cycle's wall time.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.peers import http_server, smtp_server  # noqa: E402

ROUTING = """\
security_team: [secops@example.invalid]
channels:
  mail:
    type: email
    url: mailto://alerts:PASS@127.0.0.1:{smtp}?from=alerts@example.invalid&mode=insecure
  hook:
    type: json
    url: {base}/hook
routes:
  - match: {{}}
    channels: [mail, hook]
"""


def main() -> None:
    # The local SMTP server's own deprecation notice, once per message it accepts.
    warnings.filterwarnings("ignore", message=".*login_data.*")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, help="tenant directory (written when missing)")
    parser.add_argument("--first-cycle", default=None,
                        help="passed to watch as --first-cycle (default: watch's own)")
    parser.add_argument("--history", default="8d")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        tenant = args.dir or work / "tenant"
        if not (tenant / "tenant.json").exists():
            subprocess.run([sys.executable, "-m", "mailwarden", "synth", "--out", str(tenant),
                            "--size", args.size, "--seed", str(args.seed)], check=True,
                           stdout=subprocess.DEVNULL)
        with smtp_server(b"PASS") as (mail, smtp_port), http_server() as (web, base):
            routing = work / "routing.yaml"
            routing.write_text(ROUTING.format(smtp=smtp_port, base=base), encoding="utf-8")
            command = [sys.executable, "-m", "mailwarden", "watch", "--once", "--from-dir",
                       str(tenant), "--state-dir", str(work / "state"), "--routing",
                       str(routing), "--db", str(work / "history.db"), "--history",
                       args.history, "--log-file", str(work / "watch.log")]
            if args.first_cycle:
                command += ["--first-cycle", args.first_cycle]
            started = time.perf_counter()
            subprocess.run(command, check=True)
            seconds = time.perf_counter() - started
            per_person: collections.Counter[str] = collections.Counter()
            for message in mail.messages:
                per_person.update(set(message.rcpt_tos))
            cycle = json.loads((work / "watch.log").read_text(encoding="utf-8").splitlines()[-1])
            print(json.dumps({
                "size": args.size, "seed": args.seed, "first_cycle": args.first_cycle,
                "history": args.history, "seconds": round(seconds, 1),
                "emails": len(mail.messages), "recipients": len(per_person),
                "most_emails_to_one_recipient": max(per_person.values(), default=0),
                "webhook_posts": len(web.bodies("/hook")),
                "deliveries": cycle.get("deliveries_sent"),
                "records_new": cycle.get("records_new")}, indent=2))


if __name__ == "__main__":
    main()
