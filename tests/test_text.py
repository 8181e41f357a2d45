from mailwarden.text import plural


def test_one_is_singular_and_every_other_count_is_plural() -> None:
    assert plural(1, "sign-in") == "1 sign-in"
    assert plural(0, "recipient") == "0 recipients"
    assert plural(2, "sign-in") == "2 sign-ins"
    assert plural(3, "policy", "policies") == "3 policies"
    assert plural(1, "policy", "policies") == "1 policy"
