"""Shared body of the job types whose engines land in later issues.

They are real, routed tasks so the API can already send them; they answer a
clear ``not_implemented`` failure, never a made-up result.
"""

from __future__ import annotations

from typing import Any, NoReturn

from ai_tasks.errors import NotImplementedJobError

__all__ = ["not_implemented"]


def not_implemented(what: str, state: dict[str, Any]) -> NoReturn:
    raise NotImplementedJobError(
        "not_implemented", f"{what} is not implemented in this ai-worker release yet"
    )
