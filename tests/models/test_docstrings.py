"""The Examples sections of the models' docstrings run and print what they show."""

from __future__ import annotations

import doctest

import pytest

from parcours.models import bgnbd, gammagamma, simulation, summary


@pytest.mark.parametrize("module", [bgnbd, gammagamma, simulation, summary])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
