"""Presentation-neutral views of every capability, drawn alike by the terminal and the report."""

from parcours.views.model import Chart, Column, Finding, Note, Section, Series, Table, Text, View

__all__ = ["Chart", "Column", "Finding", "Note", "Section", "Series", "Table", "Text", "View"]
