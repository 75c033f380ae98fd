from django.urls import path

from onthaal.stats import views

app_name = "stats"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("jaarverslag/", views.annual_report, name="annual_report"),
    path("voorwoord/", views.foreword, name="foreword"),
]
