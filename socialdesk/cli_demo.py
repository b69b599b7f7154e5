"""``socialdesk demo`` and ``socialdesk simulate-customer``: a desk that works end to end
offline. The demo starts every network's emulator in this process, connects the demo
accounts to them, serves the desk, and writes where everything runs to a state file the
customer simulator reads."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy import func, select

from socialdesk.cli_common import DEFAULT_DEMO_DATA, console, fail
from socialdesk.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from socialdesk.demo.networks import DemoNetworks
    from socialdesk.store.db import Database

DEMO_STATE = Path("socialdesk-demo.json")
DEMO_PASSWORD = "socialdesk"  # noqa: S105 - README's demo password, seed data only
DEMO_USERS = (
    ("admin@example.com", "admin", "Ada Admin"),
    ("lead@example.com", "lead", "Lee Lead"),
    ("agent@example.com", "agent", "Alex Agent"),
)
TWCS_FILES = ("twcs_head_5000.csv", "twcs_kaggle_sample.csv")

HostOption = Annotated[
    str | None,
    typer.Option(help="address to listen on [default: SOCIALDESK_HOST or 127.0.0.1]"),
]
PortOption = Annotated[
    int | None,
    typer.Option(min=1, max=65535, help="port to listen on [default: SOCIALDESK_PORT or 8000]"),
]
StateOption = Annotated[
    Path,
    typer.Option(help="where the demo writes (and the simulator reads) its networks' addresses"),
]


def demo(
    data_dir: Annotated[Path, typer.Option(help="the shared data folder")] = DEFAULT_DEMO_DATA,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    host: HostOption = None,
    port: PortOption = None,
    state_file: StateOption = DEMO_STATE,
) -> None:
    """Migrate, load the real demo data, start the networks' emulators, connect the demo
    accounts to them, and serve."""
    from socialdesk.cli import _check_port_free, _database, migrate, replay

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    if serve_after:
        _check_port_free(host, port)
    migrate()
    db = _database()
    prepare_demo(db)
    for name in TWCS_FILES:
        path = data_dir / "twcs" / name
        if path.is_file():
            # Moved to end now, so waiting times, due times and charts look like a live desk.
            replay(path, end_at_now=True, encoder_pass=False)
        else:
            console.print(f"[yellow]demo data not found:[/] {path}")
    users = ", ".join(email for email, _, _ in DEMO_USERS)
    console.print(f"demo users: {users}; password '{DEMO_PASSWORD}'")
    if not serve_after:
        return
    from socialdesk.observability.logs import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    try:
        running = running_demo(db, settings, host, port, data_dir, state_file)
        session = running.__enter__()
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise fail(f"cannot start the demo on {host}:{port}: {exc}") from exc
    try:
        _print_how_to(session)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
        console.print("stopping the demo")
    finally:
        running.__exit__(None, None, None)


def prepare_demo(db: Database) -> None:
    """Users, the demo SLA policy, canned answers, teams and rules: each made once."""
    from socialdesk.actions.admin import create_user
    from socialdesk.demo.content import seed_content
    from socialdesk.domain.enums import Role
    from socialdesk.store.models import User

    with db.write() as session:
        for email, role, name in DEMO_USERS:
            if session.scalar(select(User).where(User.email == email)) is None:
                # The README's demo password is weak on purpose; seed data only.
                create_user(session, email, DEMO_PASSWORD, Role(role), name=name, seed_data=True)
        _demo_service_levels(session)
        admin = session.scalar(select(User).where(User.email == DEMO_USERS[0][0]))
        assert admin is not None  # created above
        seed_content(session, admin)


@dataclass
class DemoSession:
    url: str
    networks: DemoNetworks
    accounts: dict[str, int]
    state_file: Path


class _Deferred:
    """An ASGI app filled in after its server's socket is bound: the emulators need the
    desk's address, and the desk's settings need the emulators'."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@contextmanager
def running_demo(
    db: Database,
    settings: Settings,
    host: str,
    port: int,
    data_dir: Path,
    state_file: Path,
) -> Iterator[DemoSession]:
    """The emulators, the connected accounts and the desk (with its workers), served
    until the block ends. Port 0 picks a free one (tests)."""
    from socialdesk.demo.networks import connect_accounts, start_networks
    from socialdesk.loopback import BackgroundServer
    from socialdesk.web.app import create_app
    from socialdesk.web.pages import demo_customer

    deferred = _Deferred()
    server = BackgroundServer(deferred, host=host, port=port, log_level="warning")
    reach = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a comparison
    desk_url = f"http://{reach}:{server.port}"
    networks = start_networks(desk_url)
    try:
        accounts = connect_accounts(db, networks)
        desk_settings = settings.model_copy(
            update={**networks.settings_update(), "public_url": desk_url}
        )
        desk = create_app(desk_settings, db)
        desk.state.demo_networks = networks.describe()
        desk.include_router(demo_customer.router)
        deferred.app = desk
        server.start()
        try:
            networks.write_state(state_file)
            session = DemoSession(server.url, networks, accounts, state_file)
            _first_posts(db, session, data_dir)
            yield session
        finally:
            server.stop()
            state_file.unlink(missing_ok=True)
    finally:
        networks.stop()


def _first_posts(db: Database, session: DemoSession, data_dir: Path) -> None:
    """On the first start, customers write on every network (real texts), so each has
    tickets to answer; later starts keep what is there."""
    from socialdesk.demo.content import customer_posts
    from socialdesk.demo.customers import post_as_customer
    from socialdesk.store.models import Message

    with db.session() as s:
        seen = s.scalar(
            select(func.count())
            .select_from(Message)
            .where(
                Message.channel_account_id.in_(
                    [i for name, i in session.accounts.items() if name != "x"]
                )
            )
        )
    if seen:
        return
    state = session.networks.describe()
    for post in customer_posts(data_dir):
        post_as_customer(
            state, post.network, post.text, customer=post.customer, subject=post.subject
        )


def _program() -> str:
    name = Path(sys.argv[0]).name
    return sys.argv[0] if name == "socialdesk" else "socialdesk"


def _print_how_to(session: DemoSession) -> None:
    from socialdesk.demo.customers import NETWORKS

    networks = session.networks
    console.print(
        f"[green]socialdesk demo[/] on {session.url}/login (sign in as agent@example.com)"
    )
    console.print(
        f"network emulators on this machine: X {networks.x_url}, Meta {networks.meta_url}, "
        f"Mastodon {networks.mastodon_url}, Bluesky {networks.bluesky_url}, "
        f"mail IMAP {networks.mail.host}:{networks.mail.imap_port}",
        soft_wrap=True,
    )
    console.print("every demo account is connected to them: replies go out and show 'sent'")
    console.print(
        f"act as a customer (from this folder, while the demo runs):\n"
        f'  {_program()} simulate-customer --network x --text "My order never arrived"\n'
        f"  networks: {', '.join(NETWORKS)}; --customer NAME to write as someone else\n"
        f"or in the browser: {session.url}/demo/customer",
        soft_wrap=True,
    )
    console.print("Ctrl-C stops the demo")


def simulate_customer(
    network: Annotated[
        str,
        typer.Option(
            help="x, x-dm, facebook, messenger, instagram, "
            "instagram-dm, mastodon, bluesky, email or web"
        ),
    ],
    text: Annotated[str, typer.Option(help="what the customer writes")],
    customer: Annotated[
        str, typer.Option(help="the customer's name; the same name continues their conversation")
    ] = "Demo Customer",
    subject: Annotated[str, typer.Option(help="subject line (email, web)")] = "",
    state_file: StateOption = DEMO_STATE,
) -> None:
    """Post as a customer on one of the running demo's networks: the post reaches the desk
    as a real one would (a signed webhook, a polled post, an e-mail, the web form)."""
    from socialdesk.demo.customers import NETWORKS, SimulatorError, post_as_customer
    from socialdesk.demo.networks import POLL_SECONDS

    if network not in NETWORKS:
        raise fail(f"unknown network {network!r}; use one of {', '.join(NETWORKS)}")
    if not state_file.is_file():
        raise fail(
            f"no running demo found ({state_file} is missing): start `socialdesk demo` first, "
            "and run this in the same folder (or pass --state-file)"
        )
    state = json.loads(state_file.read_text(encoding="utf-8"))
    try:
        outcome = post_as_customer(state, network, text, customer=customer, subject=subject)
    except SimulatorError as exc:
        console.print(f"[bold red]failed:[/] {exc}", soft_wrap=True)
        raise typer.Exit(1) from exc
    polled = network in ("mastodon", "bluesky", "email")
    when = f"within {POLL_SECONDS:.0f} s (the desk polls it)" if polled else "at once"
    console.print(f"[green]{outcome}[/]; it shows in the inbox {when}")


def _demo_service_levels(session: Session) -> None:
    """A 24/7 policy so the demo's tickets carry due times and breaches from the start."""
    from socialdesk.actions.admin import ensure_workspace
    from socialdesk.sla.admin import create_policy
    from socialdesk.store.models import SlaPolicy

    workspace = ensure_workspace(session)
    if session.scalar(select(SlaPolicy.id).where(SlaPolicy.workspace_id == workspace.id)):
        return
    create_policy(
        session,
        None,
        workspace.id,
        name="Demo: social in the hour, e-mail the same day",
        targets=[
            {
                "channel": None,
                "priority": None,
                "first_response_minutes": 240,
                "next_response_minutes": 240,
                "resolution_minutes": 2880,
            },
            {
                "channel": "x",
                "priority": None,
                "first_response_minutes": 60,
                "next_response_minutes": 120,
                "resolution_minutes": 1440,
            },
            {"channel": None, "priority": "urgent", "first_response_minutes": 15},
        ],
        calendar=None,
        warn_share=0.75,
    )
