from django.contrib import admin
from django.urls import include, path

from onthaal.api import api
from onthaal.chat import views as chat_views
from onthaal.ops import views as ops_views
from onthaal.staff import views as staff_views

# The admin signs in through the operator login, so that it too needs the
# second factor.
admin.site.login = staff_views.admin_login_redirect  # type: ignore[method-assign]

urlpatterns = [
    path("", chat_views.visitor_page, name="visitor"),
    path("privacy/", chat_views.privacy_page, name="privacy"),
    path("healthz", chat_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("api/v1/", api.urls),
    path("medewerker/", include("onthaal.staff.urls")),
    path("cijfers/", include("onthaal.stats.urls")),
    path("kwaliteit/", include("onthaal.quality.urls")),
    path("diensten/", include("onthaal.shifts.urls")),
    path("nepoproepen/", include("onthaal.safeguard.urls")),
    path("toezicht/", include("onthaal.supervision.urls")),
    path("hulpmiddelen/", include("onthaal.toolkit.urls")),
    path("beheer/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]
