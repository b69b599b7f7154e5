"""The lead's live view: queue sizes per view and channel, the oldest waiting post per
channel, agents on shift with their load (what ``GET /api/v1/queue/live`` computes), and
charts of the same plus posts per hour and service levels met per day."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from socialdesk.reports import activity, charts
from socialdesk.sla import views as sla_views
from socialdesk.store.db import Database, utcnow
from socialdesk.web.pages.common import PageError, network, render
from socialdesk.web.pages.inbox import VIEWS, counts_for
from socialdesk.web.sessions import PageUser

router = APIRouter(include_in_schema=False)


@router.get("/queue", response_class=HTMLResponse)
def live_queue(request: Request, user: PageUser) -> Response:
    if user.role not in ("admin", "lead"):
        raise PageError(403, "Only leads and admins see the live queue.")
    database: Database = request.app.state.db
    now = utcnow()
    with database.session() as session:
        live = sla_views.live_queue(session, list(user.workspace_ids), now)
        counts = counts_for(session, user)
        volume = activity.inbound_per_hour(session, user.workspace_ids, now)
        attainment = activity.sla_attainment_per_day(session, user.workspace_ids, now)
    statuses = sorted({s for sizes in live["queues"].values() for s in sizes})
    return render(
        request,
        "live_queue.html",
        user,
        nav="queue",
        live=live,
        statuses=statuses,
        views=VIEWS,
        counts=counts,
        volume=volume,
        attainment=attainment,
        pictures=_pictures(live, statuses, volume, attainment),
    )


def _pictures(
    live: dict[str, Any],
    statuses: list[str],
    volume: activity.HourlyVolume,
    attainment: list[activity.DailyAttainment],
) -> dict[str, Markup]:
    queues: dict[str, dict[str, int]] = live["queues"]
    networks = sorted(queues)
    agents = live["agents_on_shift"]
    pictures = {
        "queues": charts.stacked_rows(
            [network(p)[1] for p in networks],
            [[queues[p].get(s, 0) for s in statuses] for p in networks],
            statuses,
            title="Unsolved tickets per network, by status",
        ),
        "agents": charts.stacked_rows(
            [a["name"] or f"user {a['user_id']}" for a in agents],
            [[a["open_tickets"]] for a in agents],
            ["open tickets"],
            title="Open tickets per agent on shift; the mark is their capacity",
            limits=[a["max_open_tickets"] for a in agents],
        ),
        "volume": charts.stacked_columns(
            [h.strftime("%H:00") for h in volume.hours],
            [
                [counts[i] for counts in volume.by_network.values()]
                for i in range(len(volume.hours))
            ],
            [network(p)[1] for p in volume.by_network],
            title="Customer posts per hour, last 24 hours (UTC), by network",
            label_every=3,
        ),
        "attainment": charts.stacked_columns(
            [_day_label(d) for d in attainment],
            [[d.met, d.missed] for d in attainment],
            ["met", "missed"],
            title="Service-level targets met and missed per day, last 7 days",
        ),
    }
    return pictures


def _day_label(day: activity.DailyAttainment) -> str:
    share = day.share_met
    return day.day.strftime("%a %d") + (f" · {share:.0%}" if share is not None else "")
