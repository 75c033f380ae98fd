from django.urls import path

from onthaal.chat import consumers

websocket_urlpatterns = [
    path("ws/v1/visitor/", consumers.VisitorConsumer.as_asgi()),
    path("ws/v1/operator/", consumers.OperatorConsumer.as_asgi()),
]
