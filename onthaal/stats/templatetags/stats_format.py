"""Number formats of the dashboard, in the page's language (Dutch: 80,9 %)."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()

MINUS = "\N{MINUS SIGN}"


@register.filter
def percent(share: float | None, digits: int = 1) -> str:
    """A share (0–1) as a percentage: ``0.809`` → ``80,9 %``; ``None`` → ``–``."""
    if share is None:
        return "–"
    return f"{floatformat(share * 100, f'{digits}g')} %"


@register.filter
def change_pct(value: float | None) -> str:
    """A change in percent with its sign (a real minus sign): ``+12,5 %``; ``None`` → ``–``."""
    if value is None:
        return "–"
    sign = "+" if value > 0 else (MINUS if value < 0 else "")
    return f"{sign}{floatformat(abs(value), '1g')} %"


@register.filter
def signed(value: int | None) -> str:
    """An absolute change with its sign (a real minus sign): ``+120``."""
    if value is None:
        return "–"
    sign = "+" if value > 0 else (MINUS if value < 0 else "")
    return f"{sign}{floatformat(abs(value), '0g')}"


@register.filter
def minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal: ``1215`` → ``20,3 min``."""
    if seconds is None:
        return "–"
    return f"{floatformat(seconds / 60, '1g')} min"


@register.filter
def number(value: float | None, digits: int = 0) -> str:
    """A number with the language's grouping and decimals; ``None`` → ``–``."""
    if value is None:
        return "–"
    return str(floatformat(value, f"{digits}g"))


@register.filter
def get(mapping: dict[str, object] | None, key: str) -> object:
    """``mapping[key]`` for the template (None when absent)."""
    if not mapping:
        return None
    return mapping.get(str(key))
