from django.urls import path

from onthaal.supervision import views

app_name = "supervision"

urlpatterns = [
    path("", views.overview_page, name="overview"),
]
