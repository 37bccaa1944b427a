"""API endpoints of this app (registered under /api/ in kam.api)."""

from ninja import Router

router = Router()
