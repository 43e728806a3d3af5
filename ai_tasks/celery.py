"""The Celery application: ``celery -A ai_tasks worker -Q cpu-vision``.

Configured from ``celeryconfig.py`` (which reads the environment through
:mod:`ai_tasks.settings`). Task modules are listed in ``celeryconfig.imports``.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from celery import Celery
from celery.app.amqp import AMQP
from celery.signals import (
    after_setup_logger,
    celeryd_after_setup,
    worker_init,
    worker_process_init,
    worker_ready,
)

from ai_tasks.broker import LeaseRenewal, consume_default_queue, guard_redis_restore
from ai_tasks.dead_letters import DeadLetterDrain, dead_letter_queue
from ai_tasks.ledger import LedgerSweep
from ai_tasks.redact import RedactingFilter, redacted_repr

__all__ = ["RedactingAMQP", "app"]


class RedactingAMQP(AMQP):
    """Every message this app publishes carries redacted argument reprs.

    They go into the message headers and into the ``task-sent`` event that
    Flower shows; Celery would print the arguments as they are (the first
    OMR step's carries the presigned download URL). Whatever a caller passed
    as ``argsrepr``/``kwargsrepr`` is replaced too, so this is the one place
    a publish is redacted (every publish of protocol 2 builds its message here).

    A task whose ``send_events`` is off (the intermediate steps of a chain,
    ``celeryconfig.py``) is published without a ``task-sent`` event either.
    """

    #: Celery passes most arguments positionally: their names, in order (``inspect``'s
    #: ``bind`` on every publish was a fifth of a publish's CPU).
    _POSITIONAL = tuple(p.name for p in inspect.signature(AMQP.as_task_v2).parameters.values()
                        if p.kind is p.POSITIONAL_OR_KEYWORD)[1:]

    def as_task_v2(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) > len(self._POSITIONAL):
            raise TypeError(f"as_task_v2 takes {len(self._POSITIONAL)} positional arguments, got {len(args)}")
        call = dict(zip(self._POSITIONAL, args, strict=False), **kwargs)
        call["argsrepr"] = redacted_repr(list(call.get("args") or ()), maxlen=self.argsrepr_maxsize)
        call["kwargsrepr"] = redacted_repr(dict(call.get("kwargs") or {}), maxlen=self.kwargsrepr_maxsize)
        if call.get("create_sent_event") and not _sends_events(self.app, str(call.get("name"))):
            call["create_sent_event"] = False
        return super().as_task_v2(**call)


def _sends_events(app: Celery, name: str) -> bool:
    """False for a task registered here with ``send_events`` off (its annotation in ``celeryconfig.py``)."""
    task = app.tasks.get(name)
    return task is None or bool(task.send_events)


app = Celery("ai_tasks", task_cls="ai_tasks.task:AITask", amqp=RedactingAMQP)
app.config_from_object("celeryconfig")
# Redis: a live worker renews the leases of the messages it holds (ai_tasks/broker.py).
app.steps["consumer"].add(LeaseRenewal)
# Redis: cpu-vision workers republish ledger jobs that were lost (ai_tasks/ledger.py).
app.steps["consumer"].add(LedgerSweep)
# RabbitMQ: cpu-vision workers answer the jobs whose messages were dead-lettered (ai_tasks/dead_letters.py).
app.steps["consumer"].add(DeadLetterDrain)
# Redis: a restart must not kill the worker in kombu's restore (kombu#582).
guard_redis_restore()

log = logging.getLogger(__name__)

#: Celery's loggers that print task arguments or return values.
_CELERY_VALUE_LOGGERS = ("celery.app.trace", "celery.worker.strategy", "celery.worker.request")


def _install_redacting_filters() -> None:
    for name in _CELERY_VALUE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())


_install_redacting_filters()


@after_setup_logger.connect
def _redact_celery_logs(**_: Any) -> None:
    """Return values and arguments that Celery logs lose their URL credentials."""
    _install_redacting_filters()


@celeryd_after_setup.connect
def _consume_default_queue(sender: Any = None, instance: Any = None, **_: Any) -> None:
    """A ``cpu-vision`` worker also runs what a default client sent to ``celery``."""
    if instance is not None and consume_default_queue(instance.app):
        log.info("also consuming Celery's default queue 'celery' (clients that set no queue)")


@worker_init.connect
def _declare_dead_letter_queue(sender: Any = None, **_: Any) -> None:
    """On RabbitMQ, make sure the dead-letter exchange and queue exist."""
    if app.conf.broker_url.split(":", 1)[0] not in ("amqp", "amqps", "pyamqp"):
        return
    with app.connection_for_write() as conn:
        dead_letter_queue().bind(conn.default_channel).declare()


@worker_process_init.connect
def _load_engines(**_: Any) -> None:
    """Load heavy engines once per pool process, before the first task."""
    from ai_tasks.engines import warm_up

    warm_up()


@worker_ready.connect
def _load_engines_without_pool_processes(sender: Any = None, **_: Any) -> None:
    """Threads and solo pools have no pool processes: warm the engines in the worker itself."""
    pool = type(getattr(sender, "pool", None)).__module__
    if "prefork" in pool or "asynpool" in pool:
        return
    from ai_tasks.engines import warm_up

    warm_up()
