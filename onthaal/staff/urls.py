from django.urls import path

from onthaal.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.console, name="console"),
    path("aanmelden/", views.login_password, name="login"),
    path("aanmelden/tweede-stap/", views.login_second_factor, name="login_second_factor"),
    path("aanmelden/passkey/opties/", views.login_passkey_options, name="login_passkey_options"),
    path("aanmelden/passkey/", views.login_passkey, name="login_passkey"),
    path("aanmelden/sso/", views.oidc_start, name="oidc_start"),
    path("aanmelden/sso/terug/", views.oidc_callback, name="oidc_callback"),
    path("afmelden/", views.logout_view, name="logout"),
    path("passkeys/", views.passkeys_page, name="passkeys"),
    path("passkeys/bevestigen/", views.reauth_totp, name="reauth_totp"),
    path(
        "passkeys/bevestigen/passkey/opties/",
        views.reauth_passkey_options,
        name="reauth_passkey_options",
    ),
    path("passkeys/bevestigen/passkey/", views.reauth_passkey, name="reauth_passkey"),
    path("passkeys/opties/", views.passkey_register_options, name="passkey_register_options"),
    path("passkeys/registreren/", views.passkey_register, name="passkey_register"),
    path("passkeys/<int:passkey_id>/verwijderen/", views.passkey_delete, name="passkey_delete"),
]
