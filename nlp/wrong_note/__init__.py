"""Wrong-answer notes: a student's wrongly answered questions as a PDF, grouped by exam.

:mod:`~nlp.wrong_note.model` validates the note, :mod:`~nlp.wrong_note.layout`
reads the look from ``template.json``, :mod:`~nlp.wrong_note.fonts` checks
every glyph against a chain of TTF fonts (NanumGothic first),
:mod:`~nlp.wrong_note.linebreak` breaks lines between words only, and
:mod:`~nlp.wrong_note.render` typesets and draws with ReportLab.
"""

from nlp.wrong_note.layout import Layout, load_layout
from nlp.wrong_note.model import NoteItem, WrongNote, parse_note
from nlp.wrong_note.render import RenderedNote, render_note

__all__ = ["Layout", "NoteItem", "RenderedNote", "WrongNote", "load_layout", "parse_note", "render_note"]
