from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ShiftsConfig(AppConfig):
    name = "onthaal.shifts"
    label = "shifts"
    verbose_name = _("Diensten")
