from django.urls import path

from onthaal.shifts import views

app_name = "shifts"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("mijn/", views.mine, name="mine"),
    path("blokken/nieuw/", views.block_create, name="block_create"),
    path("blokken/genereren/", views.blocks_generate, name="blocks_generate"),
    path("blokken/<int:block_id>/verwijderen/", views.block_delete, name="block_delete"),
    path("blokken/<int:block_id>/inschrijven/", views.signup_create, name="signup_create"),
    path("blokken/<int:block_id>/uitschrijven/", views.signup_withdraw, name="signup_withdraw"),
    path("agenda/nieuw/", views.feed_regenerate, name="feed_regenerate"),
    path("agenda/intrekken/", views.feed_revoke, name="feed_revoke"),
    path("agenda/<str:token>.ics", views.feed, name="feed"),
]
