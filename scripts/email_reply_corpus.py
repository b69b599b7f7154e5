"""Score e-mail reply trimming on the corpus in tests/fixtures/email_replies/.

    python scripts/email_reply_corpus.py              # the current code
    python scripts/email_reply_corpus.py --rev 52f6cb6 # the code as it was at a commit

A case is right when the visible reply equals its ``.expected.txt`` (surrounding
blank space ignored). ``.txt`` cases go through ``trim_quoted_reply``; ``.eml`` cases
through ``parse_email`` (MIME decoding and HTML to text included).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "email_replies"
# Where the module lived at the revisions this script compares against (since moved to
# socialdesk/channels/email/message.py).
MODULE = "socialdesk/channels/email_message.py"


def _module(rev: str | None) -> Any:
    sys.path.insert(0, str(ROOT))
    if rev is None:
        from socialdesk.channels.email import message

        return message
    command = ["git", "-C", str(ROOT), "show", f"{rev}:{MODULE}"]
    source = subprocess.run(  # noqa: S603 (git with a revision name)
        command,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = ModuleType("email_message_at_rev")
    exec(compile(source, f"{rev}:{MODULE}", "exec"), module.__dict__)  # noqa: S102
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="git revision whose email_message.py to score")
    parser.add_argument("-v", "--verbose", action="store_true", help="name the wrong cases")
    args = parser.parse_args()
    module = _module(args.rev)
    from socialdesk.channels.base import AccountRef
    from socialdesk.domain.enums import Platform

    account = AccountRef(1, Platform.EMAIL, "support@acme.test", "support@acme.test")
    right, wrong = 0, []
    cases = sorted(p for p in CORPUS.iterdir() if p.suffix in {".txt", ".eml"})
    cases = [p for p in cases if not p.name.endswith(".expected.txt")]
    for path in cases:
        expected = path.with_suffix(".expected.txt").read_text(encoding="utf-8").strip()
        if path.suffix == ".eml":
            message = module.parse_email(path.read_bytes(), account)
            got = message.body.strip() if message is not None else ""
        else:
            got = module.trim_quoted_reply(path.read_text(encoding="utf-8")).strip()
        if got == expected:
            right += 1
        else:
            wrong.append(path.name)
    print(f"{right} of {len(cases)} right ({args.rev or 'working tree'})")
    if args.verbose:
        for name in wrong:
            print("  wrong:", name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
