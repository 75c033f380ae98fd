from django.urls import path

from onthaal.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.console, name="console"),
    path("aanmelden/", views.login_password, name="login"),
    path("aanmelden/tweede-stap/", views.login_second_factor, name="login_second_factor"),
    path("afmelden/", views.logout_view, name="logout"),
]
