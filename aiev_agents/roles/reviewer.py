"""The reviewer: critiques a program's tests before it runs."""

from __future__ import annotations

from typing import Any, ClassVar

from .base import AievRole

APPROVAL = "APPROVED"


class ReviewerAgent(AievRole):
    """Reads the problem and the program before execution; approves or asks for better tests.

    Args:
        max_reviews: Most critiques per dialogue; after that, programs run unreviewed.
        **kwargs: As for ``AievRole``.
    """

    role_name = "reviewer"
    place: ClassVar[str] = "before_execution"

    def __init__(self, *args: Any, max_reviews: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_reviews = max_reviews

    @staticmethod
    def review_request(problem: str, answer: str) -> str:
        """The message that shows the problem and the candidate program."""
        return f"Problem:\n\n{problem}\n\nCandidate program:\n\n{answer}"

    @staticmethod
    def approves(review: str) -> bool:
        """Whether a review approves the program (it starts with APPROVED)."""
        return review.strip().upper().startswith(APPROVAL)
