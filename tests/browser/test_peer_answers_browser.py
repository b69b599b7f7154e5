"""A fan answers a customer on X; the agent sees "Answered by @fan" on the ticket and
thanks them with one click, and narrows the inbox by the triage in the filter bar."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site, sign_in
from tests.delivery.helpers import eventually

pytestmark = pytest.mark.browser


def test_thank_the_fan_and_filter_by_triage(browser: Any, site: Site) -> None:
    site.x_account()
    question = site.customer_tweets(
        "sam_k", "@AcmeSupport my flight was cancelled, how do I rebook without paying?"
    )
    r = site.x.post(
        "/_emulator/customer/mention",
        json={
            "customer": {"username": "frequent_flyer", "name": "Frequent Flyer"},
            "text": "@sam_k you can rebook free in the app under My Trips, worked for me",
            "in_reply_to_tweet_id": question["id_str"],
        },
    )
    r.raise_for_status()
    answer = r.json()["tweet"]
    site.customer_tweets("lee_p", "@AcmeSupport love the new app, great job")

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, site, "agent@example.com")
    page.goto(site.url + "/inbox?view=open")
    page.locator(".ticket-row", has_text="rebook").wait_for(timeout=10_000)
    page.locator(".ticket-row", has_text="love the new app").wait_for(timeout=10_000)

    # The filter bar: sentiment "positive" leaves only the praise.
    page.get_by_label("Sentiment").select_option("positive")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**sentiment=positive**")
    page.locator(".ticket-row", has_text="love the new app").wait_for()
    assert page.locator(".ticket-row", has_text="rebook").count() == 0

    page.goto(site.url + "/inbox?view=open")
    page.locator(".ticket-row", has_text="rebook").locator(".row-link").click()
    page.wait_for_url("**/tickets/*")
    page.locator(".peer-answers", has_text="Answered by @frequent_flyer").wait_for()
    page.get_by_role("button", name="Thank @frequent_flyer").click()
    page.locator(".msg.outbound", has_text="@frequent_flyer thank you").wait_for(timeout=10_000)

    sent = eventually(site.posted_tweets)
    assert sent[0]["body"]["reply"]["in_reply_to_tweet_id"] == answer["id_str"]
    page.close()
