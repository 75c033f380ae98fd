from django.apps import AppConfig


class AssignmentConfig(AppConfig):
    name = "onthaal.assignment"
    label = "assignment"
    verbose_name = "Toewijzing"
