from django.urls import path

from onthaal.quality import views

app_name = "quality"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("chatscans/<int:scan_id>/", views.scan_detail, name="scan"),
    path("chats/<int:review_id>/", views.review_detail, name="review"),
    path("mijn-feedback/", views.my_feedback, name="my_feedback"),
]
