"""Device class from a user agent: phone/tablet or desktop.

The statistics need only these two classes, so a parser library that names
models and browsers would be more than we want to run on every new
conversation. The tokens below are the ones browsers use to announce a
mobile or tablet device (MDN: "User-Agent sniffing", the "Mobi" rule),
plus iPadOS, which announces itself as a Mac but has touch. The user agent
itself is never stored.
"""

from __future__ import annotations

import re

from onthaal.chat.models import DeviceClass

_MOBILE = re.compile(
    r"Mobi|Android|iPhone|iPad|iPod|Tablet|Silk|Kindle|Opera Mini|IEMobile|webOS|BlackBerry",
    re.IGNORECASE,
)


def device_class_from_user_agent(user_agent: str, *, touch: bool = False) -> DeviceClass:
    """Classify a user agent; ``touch`` is the page's report of a touch screen
    with a small viewport, which catches iPads that present as desktop Safari."""
    if _MOBILE.search(user_agent or "") or touch:
        return DeviceClass.MOBILE
    return DeviceClass.DESKTOP
