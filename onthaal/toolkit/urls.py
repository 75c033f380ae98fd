from django.urls import path

from onthaal.toolkit import views

app_name = "toolkit"

urlpatterns = [
    path("snelantwoorden/", views.canned_overview, name="canned"),
    path("snelantwoorden/<int:response_id>/", views.canned_edit, name="canned_edit"),
    path("snelantwoorden/<int:response_id>/verwijder/", views.canned_delete, name="canned_delete"),
    path("sociale-kaart/", views.social_map_overview, name="social_map"),
    path("sociale-kaart/<int:entry_id>/", views.social_map_edit, name="social_map_edit"),
    path(
        "sociale-kaart/<int:entry_id>/verwijder/",
        views.social_map_delete,
        name="social_map_delete",
    ),
]
