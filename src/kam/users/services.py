"""Writes for users: API tokens."""

from django.db import transaction
from django.utils import timezone

from kam.users.models import ApiToken, User, hash_token


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown only this once."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[4:12], digest=hash_token(raw)
    )
    return token, raw


def api_token_authenticate(raw: str) -> User | None:
    """The active user owning this token, or None."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=hash_token(raw), revoked=False, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
