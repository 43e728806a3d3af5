"""OCR text in, a validated :class:`~nlp.problem.types.ParsedProblem` out.

One call in strict structured-output mode; if the server rejects
``json_schema``, the same call in JSON mode; if the reply fails validation,
one repair round that sends the validation error back; then a clear
``llm_invalid_output``. Refusals and truncated replies fail at once: they
are never parsed as data.

Examples:
    >>> generate_problem("   ", client_config=ClientConfig(model="m"))
    Traceback (most recent call last):
    ...
    nlp.errors.InputError: ocr_text_missing: ocr_text is empty
"""

from __future__ import annotations

from dataclasses import replace

from nlp.errors import InputError, OutputError
from nlp.problem.client import ChatClient, ClientConfig, ResponseFormatUnsupported
from nlp.problem.prompt import build_messages, repair_message
from nlp.problem.schema import parse_reply, validate_problem
from nlp.problem.types import ParsedProblem, Usage

__all__ = ["MAX_OCR_CHARS", "REPAIR_ROUNDS", "check_ocr_text", "generate_problem"]

#: longest OCR text accepted: a full A4 page of Korean is ~2,500 characters; 20,000 is eight pages.
MAX_OCR_CHARS = 20_000
#: repair rounds after an invalid reply: one fixes most slips; more only burns tokens.
REPAIR_ROUNDS = 1
#: characters of an invalid reply echoed back in the repair round (its start shows the mistake).
MAX_ECHO_CHARS = 8000


def check_ocr_text(ocr_text: object) -> str:
    """Return ``ocr_text`` if it is a usable string, else raise ``InputError``.

    Examples:
        >>> check_ocr_text("1+1=?")
        '1+1=?'
        >>> check_ocr_text("x" * (MAX_OCR_CHARS + 1))
        Traceback (most recent call last):
        ...
        nlp.errors.InputError: ocr_text_too_long: ocr_text is 20001 characters, limit 20000
    """
    if ocr_text is None or (isinstance(ocr_text, str) and not ocr_text.strip()):
        raise InputError("ocr_text_missing", "ocr_text is empty")
    if not isinstance(ocr_text, str):
        raise InputError("ocr_text_invalid", f"ocr_text must be a string, got {type(ocr_text).__name__}")
    if len(ocr_text) > MAX_OCR_CHARS:
        raise InputError("ocr_text_too_long", f"ocr_text is {len(ocr_text)} characters, limit {MAX_OCR_CHARS}")
    return ocr_text


def generate_problem(
    ocr_text: str,
    *,
    client_config: ClientConfig,
    client: ChatClient | None = None,
) -> ParsedProblem:
    """Ask the model for the problem in ``ocr_text`` and validate its answer.

    Args:
        ocr_text: the OCR text of one question (data: never read as instructions).
        client_config: model, server, key and timeout.
        client: a :class:`ChatClient` to reuse (its connection pool); built
            from ``client_config`` and closed afterwards when ``None``.

    Returns:
        The problem, with ``usage`` summed over every call and the server's model name.

    Raises:
        InputError: ``ocr_text_missing``, ``ocr_text_invalid``, ``ocr_text_too_long``.
        OutputError: ``llm_invalid_output`` (still invalid after the repair
            round), ``llm_refused``, ``llm_truncated``, ``llm_output_too_large``.
        EngineError, EngineUnavailableError: see :mod:`nlp.problem.client`.
    """
    text = check_ocr_text(ocr_text)
    own = client is None
    chat = ChatClient(client_config) if client is None else client
    try:
        return _generate(chat, text)
    finally:
        if own:
            chat.close()


def _generate(chat: ChatClient, text: str) -> ParsedProblem:
    messages = build_messages(text)
    mode = "json_schema"
    usage = Usage()
    last: OutputError | None = None
    for _ in range(1 + REPAIR_ROUNDS):
        try:
            reply = chat.complete(messages, mode=mode)
        except ResponseFormatUnsupported:
            mode = "json_object"
            reply = chat.complete(messages, mode=mode)
        usage = usage + reply.usage
        try:
            if not reply.content.strip():
                raise OutputError("llm_invalid_output", "the reply is empty")
            problem = validate_problem(parse_reply(reply.content))
        except OutputError as exc:
            last = exc
            messages = [
                *messages,
                {"role": "assistant", "content": reply.content[:MAX_ECHO_CHARS]},
                repair_message(exc.message),
            ]
            continue
        return replace(problem, usage=usage, model=reply.model)
    assert last is not None
    raise OutputError(
        "llm_invalid_output",
        f"the reply was still invalid after {REPAIR_ROUNDS} repair round(s): {last.message}",
    )
