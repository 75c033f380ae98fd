"""Fill the test provider: its signing key, users and Onthaal as a client.

Run as ``python -m tests.oidc.provider.seed`` with the provider's settings
and OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI and
OIDC_USERS ("username:password:level,...") in the environment.
"""

from __future__ import annotations

import json
import os

import django


def main() -> None:
    django.setup()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from django.contrib.auth.models import User
    from oidc_provider.models import Client, ResponseType, RSAKey

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    RSAKey.objects.create(
        key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ).decode()
    )
    from tests.oidc.provider.hooks import opaque_subject

    subjects = {}
    for entry in os.environ["OIDC_USERS"].split(","):
        username, password, level = entry.split(":")
        user = User.objects.create_user(username=username, password=password, last_name=level)
        subjects[username] = opaque_subject(user)
    client = Client.objects.create(
        name="Onthaal",
        client_type="confidential",
        client_id=os.environ["OIDC_CLIENT_ID"],
        client_secret=os.environ["OIDC_CLIENT_SECRET"],
        jwt_alg="RS256",
        redirect_uris=[os.environ["OIDC_REDIRECT_URI"]],
        require_consent=False,
        reuse_consent=True,
        scope=["openid", "profile"],
    )
    client.response_types.add(ResponseType.objects.get(value="code"))
    print(json.dumps(subjects))  # read by the fixture


if __name__ == "__main__":
    main()
