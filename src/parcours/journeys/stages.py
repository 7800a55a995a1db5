"""The stage model: which stage of the journey each touchpoint belongs to.

A touchpoint belongs to the first stage (in journey order) that lists its type among its
``touchpoints`` and, when the stage names ``channels``, whose channels include the
touchpoint's. The model is ``journeys.stages`` of ``parcours.yaml``; the default is the
10-stage journey of need awareness ... recommendation.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from parcours.config import StageConfig
from parcours.errors import UserInputError


def stage_names(stages: Sequence[StageConfig]) -> list[str]:
    """The stage names, in journey order."""
    return [s.name for s in stages]


def stage_of(
    touchpoint: ibis.StringValue, channel: ibis.StringValue, stages: Sequence[StageConfig]
) -> tuple[ibis.StringValue, ibis.IntegerValue]:
    """The stage name and stage number (from 1) of each touchpoint; null when none.

    Parameters
    ----------
    touchpoint, channel
        Columns of the touchpoints.
    stages
        The stage model, in journey order.

    Returns
    -------
    tuple
        ``(stage, stage_no)`` expressions.
    """
    branches = []
    for no, stage in enumerate(stages, start=1):
        if not stage.touchpoints:
            continue
        cond = touchpoint.isin(stage.touchpoints)
        if stage.channels:
            cond &= channel.isin(stage.channels)
        branches.append((cond, no))
    if not branches:
        return ibis.null(str), ibis.null("int64")
    number = ibis.cases(*branches, else_=ibis.null("int64"))
    name = ibis.cases(
        *[(number == no, s.name) for no, s in enumerate(stages, start=1)],
        else_=ibis.null(str),
    )
    return name, number


def check_stages(stages: Sequence[StageConfig]) -> None:
    """Refuse a stage model with no stage or a stage named twice."""
    names = stage_names(stages)
    if not names:
        raise UserInputError(
            "journeys.stages is empty", hint="list the stages of the journey in parcours.yaml"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UserInputError(
            f"journeys.stages: stage {twice[0]!r} is defined twice",
            hint="give each stage a distinct name",
        )
