from django.urls import path

from onthaal.safeguard import views

app_name = "safeguard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("chats/<int:conversation_id>/", views.review_detail, name="review"),
    path("blokkeringen/<int:block_id>/opheffen/", views.block_lift, name="block_lift"),
]
