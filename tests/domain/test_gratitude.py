import pytest

from socialdesk.domain.gratitude import is_gratitude_only


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@AppleSupport thanks!", True),
        ("Thank you so much 🙏", True),
        ("thx", True),
        ("@115712 Perfect, cheers", True),
        ("great, that worked", True),
        ("👍", True),
        ("🙏🙏", True),
        ("Merci beaucoup !", True),
        ("Much appreciated, have a good weekend", True),
        # Follow-ups that must reopen.
        ("thanks but it still doesn't work", False),
        ("Thanks. How do I reset my password?", False),
        ("thank you, what about my refund", False),
        ("Still broken after the update", False),
        ("ok", False),
        ("", False),
        ("@AmazonHelp", False),
        ("It crashed again this morning", False),
        (
            "thanks for the reply, I tried that and the app keeps closing whenever I open "
            "the camera roll on my phone",
            False,
        ),
        ("Thanks, unfortunately the order never arrived", False),
    ],
)
def test_is_gratitude_only(text: str, expected: bool) -> None:
    assert is_gratitude_only(text) is expected
