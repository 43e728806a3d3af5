"""Exam-problem generation: OCR text in, a validated problem out, through any OpenAI-compatible server.

Modules: :mod:`~nlp.problem.types` (the result), :mod:`~nlp.problem.schema`
(the JSON schema and our validation), :mod:`~nlp.problem.prompt` (the
messages, OCR text fenced as data), :mod:`~nlp.problem.client` (one call
through ``openai``, every failure named), :mod:`~nlp.problem.generate`
(the loop: structured output, JSON-mode fallback, one repair round).
``openai`` is imported only when a client is built.
"""

from nlp.problem.client import ChatClient, ClientConfig
from nlp.problem.generate import generate_problem
from nlp.problem.schema import validate_problem
from nlp.problem.types import ParsedProblem, Usage

__all__ = ["ChatClient", "ClientConfig", "ParsedProblem", "Usage", "generate_problem", "validate_problem"]
