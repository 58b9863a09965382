"""`field_html` draws one labelled field: every value escaped, the hint and the error tied to the input."""

from __future__ import annotations

from komunikator.web.staff.field_html import field_html

HOSTILE = '"><script>alert(1)</script>'


def test_every_value_is_escaped() -> None:
    html = str(field_html({"name": "to_user", "id": HOSTILE, "label": HOSTILE, "type": "select", "hint": HOSTILE,
                           "task_unit": HOSTILE, "options": [(HOSTILE, HOSTILE, HOSTILE)]},
                          {"to_user": HOSTILE}, HOSTILE, error_word=HOSTILE))
    assert "<script>" not in html and html.count("&lt;script&gt;") == 14  # every place a value is written
    assert ' selected>' in html  # the chosen option, compared before escaping


def test_the_hint_and_the_error_describe_the_input() -> None:
    html = str(field_html({"name": "reason", "label": "Powód", "type": "textarea", "hint": "Widoczny dla mieszkańca"},
                          {"reason": "Wpisz powód"}, "", error_word="Błąd"))
    assert '<div class="field field--error">' in html
    assert ('<p class="field__error" id="reason-error"><span class="visually-hidden">Błąd:</span> '
            'Wpisz powód</p>') in html
    assert ('<textarea class="field__input" id="reason" name="reason" rows="4" '
            'aria-describedby="reason-hint reason-error" aria-invalid="true"></textarea>') in html
    plain = str(field_html({"name": "email", "label": "E-mail", "type": "email", "value": "a@b.pl",
                            "autocomplete": "username"}))
    assert '<input class="field__input" id="email" name="email" type="email" value="a@b.pl" autocomplete="username">' \
        in plain and "aria-" not in plain and "field--error" not in plain
