from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafeguardConfig(AppConfig):
    name = "onthaal.safeguard"
    label = "safeguard"
    verbose_name = _("Nepoproepen en blokkeringen")
