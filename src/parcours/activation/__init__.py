"""CRM plans: automated scenarios timed by the data, under one contact policy and a journal."""

from parcours.activation.decisions import deliver, preview_plans, run_plans

__all__ = ["deliver", "preview_plans", "run_plans"]
