"""The demo's customer simulator in the browser (``/demo/customer``): write as a customer
on any network the demo emulates. Mounted only by ``socialdesk demo``, which puts where
the emulators run in ``app.state.demo_networks``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from socialdesk.demo.customers import NETWORKS, SimulatorError, post_as_customer
from socialdesk.web.pages.common import PageError, render
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)


def _networks(request: Request) -> dict[str, Any]:
    state: dict[str, Any] | None = getattr(request.app.state, "demo_networks", None)
    if state is None:
        raise PageError(404, "The customer simulator runs only with `socialdesk demo`.")
    return state


def _page(request: Request, user: WebUser, status: int = 200, **context: Any) -> Response:
    return render(
        request,
        "demo_customer.html",
        user,
        status_code=status,
        nav="demo",
        networks=NETWORKS,
        **{"network": "x", "customer": "Demo Customer", "text": "", "subject": ""} | context,
    )


@router.get("/demo/customer", response_class=HTMLResponse)
def customer_page(request: Request, user: PageUser) -> Response:
    _networks(request)
    query = request.query_params
    network = query.get("network", "x")
    return _page(
        request,
        user,
        done=query.get("done", "")[:200],
        network=network if network in NETWORKS else "x",
        customer=query.get("customer", "Demo Customer")[:80],
    )


@router.post("/demo/customer")
def write_as_customer(
    request: Request,
    user: FormUser,
    network: Annotated[str, Form(max_length=20)],
    text: Annotated[str, Form(max_length=2000)],
    customer: Annotated[str, Form(max_length=80)] = "",
    subject: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    state = _networks(request)
    customer = customer.strip() or "Demo Customer"
    try:
        outcome = post_as_customer(state, network, text, customer=customer, subject=subject)
    except SimulatorError as exc:
        return _page(
            request, user, 422, error=str(exc), network=network, customer=customer, text=text,
            subject=subject,
        )  # fmt: skip
    query = urlencode({"done": outcome, "network": network, "customer": customer})
    return RedirectResponse(f"/demo/customer?{query}", status_code=303)
