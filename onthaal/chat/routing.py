from django.urls import path

from onthaal.chat import consumers
from onthaal.supervision.consumers import OverviewConsumer

websocket_urlpatterns = [
    path("ws/v1/visitor/", consumers.VisitorConsumer.as_asgi()),
    path("ws/v1/operator/", consumers.OperatorConsumer.as_asgi()),
    path("ws/v1/overview/", OverviewConsumer.as_asgi()),
]
