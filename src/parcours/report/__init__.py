"""The HTML report: the views of every capability in one self-contained file."""

from parcours.report.build import write_report

__all__ = ["write_report"]
