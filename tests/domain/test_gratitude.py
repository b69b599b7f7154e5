import pytest

from socialdesk.domain.gratitude import content_beyond_thanks, is_gratitude_only


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
        # Thanks that carry something new: what we asked for, a number, a link, a request.
        ("Sure, it's carla@example.org. Thanks!", False),
        ("Order 4411, thanks", False),
        ("Thanks. The tracking number is 1Z999", False),
        # Real customer replies to a brand's answer, from twcs (CC BY-NC-SA 4.0).
        ("@BofA_Help Thank you call me tomorrow afternoon 3:00 pm (706)614-7640", False),
        ("@airtel_care Thank you for your reply. \nThis is my contact number \n09024869363", False),
        ("@AskLyft / 631.807.9555 - thank you!!", False),
        ("@AmazonHelp Thanks for quick response. Pic attached. https://t.co/yNhYE638YS", False),
        ("@SpotifyCares Thanks. Here's the link: https://t.co/Luc4FiDrIm", False),
        (
            "@AskeBay I have further questions about my eBay transaction- "
            "I DM'ed to explain, thanks",
            False,
        ),
        ("please could you give me an update on my order thank you", False),
        ("Thank you , have filled in the required details", False),
        ("Thanks, Becky. I submitted a request.", False),
        ("@AmericanAir Just DMed you, thanks!", False),
        # … and real bare thank-yous that must not reopen.
        ("Thanks. Item recovered and waiting collection :D", True),
        ("Ok, thanks for looking into it.", True),
        ("My package just got here. All good, thank you!", True),
        ("Yes thanks. All working now. Cheers.", True),
        ("Your welcome great service 100%", True),
        ("Thanks. Fall creators update is now in.", True),
        ("@Delta perfect! thanks for sorting me out.. social media CS ftw,", True),
    ],
)
def test_is_gratitude_only(text: str, expected: bool) -> None:
    assert is_gratitude_only(text) is expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("Sure, it's carla@example.org. Thanks!", "an e-mail address"),
        ("Order 4411, thanks", "an order or tracking number"),
        ("Thanks, it's A12B5 on the label", "a number"),
        ("thanks https://t.co/x", "a link"),
        ("thanks?", "a question"),
        ("thanks!", None),
    ],
)
def test_content_beyond_thanks_names_what_it_found(text: str, reason: str | None) -> None:
    assert content_beyond_thanks(text) == reason
