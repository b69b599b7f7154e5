"""`socialdesk eval ...`: offline measurements of the desk's judgement on labelled files.

Each measurement registers itself here as one command (triage, kb); they share this
group so `socialdesk eval --help` lists them together.
"""

from __future__ import annotations

import typer

from socialdesk.knowledge.cli import eval_kb
from socialdesk.triage.cli import eval_triage

eval_app = typer.Typer(
    no_args_is_help=True,
    help="Measure triage and knowledge suggestions on labelled files.",
)

eval_app.command("kb")(eval_kb)
eval_app.command("triage")(eval_triage)
