import pytest

from socialdesk.domain.personal_data import (
    PersonalDataKind,
    describe,
    find_personal_data,
    luhn_valid,
)

EMAIL, PHONE, CARD, ORDER, ADDRESS = (
    PersonalDataKind.EMAIL,
    PersonalDataKind.PHONE,
    PersonalDataKind.CARD,
    PersonalDataKind.ORDER,
    PersonalDataKind.ADDRESS,
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Sure, it's carla@example.org. Thanks!", [(EMAIL, "carla@example.org")]),
        ("Order 4411, thanks", [(ORDER, "4411")]),
        ("Thanks. The tracking number is 1Z999", [(ORDER, "1Z999")]),
        ("Your card 4111 1111 1111 1111 was charged twice", [(CARD, "4111 1111 1111 1111")]),
        ("call me on +44 20 7946 0958 after six", [(PHONE, "+44 20 7946 0958")]),
        ("We've sent it to 221B Baker Street, London", [(ADDRESS, "221B Baker Street")]),
        # Real customer texts from twcs (CC BY-NC-SA 4.0).
        (
            "@BofA_Help Thank you call me tomorrow afternoon 3:00 pm (706)614-7640",
            [(PHONE, "(706)614-7640")],
        ),
        (
            "@airtel_care Thank you for your reply. \nThis is my contact number \n09024869363",
            [(PHONE, "09024869363")],
        ),
        ("@AskLyft / 631.807.9555 - thank you!!", [(PHONE, "631.807.9555")]),
        ("@British_Airways Booking ref MP79V2 and QMAS91", [(ORDER, "MP79V2")]),
        ("@AskTarget 2911 Jamacha Road, El Cajon, CA 92019", [(ADDRESS, "2911 Jamacha Road")]),
        (
            "@AmazonHelp Order 111-5014070-4118645 was never picked up",
            [(ORDER, "111-5014070-4118645")],
        ),
        # Not personal data.
        ("@115712 Perfect, cheers", []),  # an anonymised handle is digits, not a phone
        ("Please call our team on 1-800-869-3557", []),  # a brand's toll-free line
        ("Card ending 4111 1111 1111 1112 failed the checksum", []),
        ("@Tesco yea n u gotta be 17 to drive", []),
        ("Great service 100%, fixed in 2 mins on iOS 11", []),
        ("DM us your order number and we'll look into it", []),
        ("Your ticket 2 of 3 is ready", []),
    ],
)
def test_find_personal_data(text: str, found: list[tuple[PersonalDataKind, str]]) -> None:
    assert [(f.kind, f.text) for f in find_personal_data(text)] == found


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True), ("", False)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


def test_describe_names_each_kind_once() -> None:
    findings = find_personal_data("a@b.co, c@d.co or +1 415 555 0134")
    assert describe(findings) == "an e-mail address and a phone number"
    assert describe([]) == ""
