"""The bridge's ledger: the jobs it holds, in Redis, by job id, and each job's ``ai.job`` task id.

Examples:
    >>> task_id_for("17") == task_id_for(17) != task_id_for("18")
    True
    >>> LedgerEntry.from_json(LedgerEntry(job={"id": "17", "type": "ocr"}, fetched_at=1.0).to_json()).job_id
    '17'
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LEDGER_KEY", "Ledger", "LedgerEntry", "task_id_for"]

#: The Redis hash of the jobs the bridge holds: fetched, result not yet posted back.
LEDGER_KEY = "ai:bridge:ledger"
#: Fixed for good: another namespace would give every job id a new task id (and run it again).
_TASK_ID_NAMESPACE = uuid.UUID("6f3c1a52-9d0e-4b7a-8c21-5e4f0b9a7d13")


def task_id_for(job_id: object) -> str:
    """The ``ai.job`` task id of a legacy job id: the same for every poll of that id.

    Examples:
        >>> task_id_for("17")
        '904b52b5-deed-5ab3-a452-00ebbb16ad8a'
    """
    return str(uuid.uuid5(_TASK_ID_NAMESPACE, f"legacy-job:{job_id}"))


@dataclass
class LedgerEntry:
    """One job the bridge holds, from the intake's answer until its result is posted.

    Args:
        job: the AIJob dict as published (``AIJob.to_dict()``); for a job
            refused before publishing only ``id`` and ``source_id``.
        fetched_at: when the intake handed it out (epoch s).
        published_at: when ``ai.job`` was last sent for it (epoch s), None before.
        result: the AIResult dict to post: set at fetch for a refused job
            (``job_invalid``), else read from the result backend (memory only).
        persisted: the ledger in Redis holds this entry as it is (memory only).
        posted: its result was POSTed with a 2xx, or found delivered (memory only).
        rejected: the API refused its result for good (memory only).
    """

    job: dict[str, Any]
    fetched_at: float
    published_at: float | None = None
    result: dict[str, Any] | None = None
    persisted: bool = field(default=False, compare=False)
    posted: bool = field(default=False, compare=False)
    rejected: bool = field(default=False, compare=False)

    @property
    def job_id(self) -> str:
        return str(self.job["id"])

    @property
    def task_id(self) -> str:
        return task_id_for(self.job_id)

    @property
    def refused(self) -> bool:
        """A job refused before publishing: its FAILED result was made here."""
        return self.result is not None and self.published_at is None

    def to_json(self) -> str:
        kept = self.result if self.refused else None  # a worker's result is re-read from the backend
        return json.dumps({"job": self.job, "fetched_at": self.fetched_at, "published_at": self.published_at,
                           "result": kept}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> LedgerEntry:
        data = json.loads(text)
        return cls(job=data["job"], fetched_at=float(data["fetched_at"]), published_at=data.get("published_at"),
                   result=data.get("result"), persisted=True)


class Ledger:
    """The bridge's jobs in Redis: a hash ``job id -> LedgerEntry JSON`` under :data:`LEDGER_KEY`.

    Every method raises ``redis.RedisError`` when Redis is away; the bridge
    keeps what it could not write in memory and writes it later.
    """

    def __init__(self, client: Any, key: str = LEDGER_KEY) -> None:
        self.client = client
        self.key = key

    def load(self) -> dict[str, LedgerEntry]:
        """Every entry, by job id."""
        return {k.decode() if isinstance(k, bytes) else str(k): LedgerEntry.from_json(v)
                for k, v in self.client.hgetall(self.key).items()}

    def put(self, entry: LedgerEntry) -> None:
        self.client.hset(self.key, entry.job_id, entry.to_json())
        entry.persisted = True

    def drop(self, job_id: str) -> None:
        self.client.hdel(self.key, job_id)
