from mailwarden.text import plural, printable


def test_one_is_singular_and_every_other_count_is_plural() -> None:
    assert plural(1, "sign-in") == "1 sign-in"
    assert plural(0, "recipient") == "0 recipients"
    assert plural(2, "sign-in") == "2 sign-ins"
    assert plural(3, "policy", "policies") == "3 policies"
    assert plural(1, "policy", "policies") == "1 policy"


def test_printable_removes_what_acts_instead_of_showing() -> None:
    hostile = "a\x1b[31mb\x07c\x9bd\u202ee\x00f\x7fg"
    assert printable(hostile) == "a[31mbcdefg"
    assert printable("one\r\ntwo\n\nthree\u2028four") == "one two three four"
    assert printable("one\r\ntwo\u2028three", lines=True) == "one\ntwo\nthree"
    assert printable("tab\tstays [locked] [/]") == "tab\tstays [locked] [/]"
