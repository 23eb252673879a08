"""Who am I: the account a token (or the embedded stack) acts as."""

from fastapi import APIRouter

from ..schemas import UserPublic
from .deps import CurrentUser

router = APIRouter(tags=["users"])


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
