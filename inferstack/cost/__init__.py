"""Capacity and cost planning: the monthly estimate of a stack's capacity plan (``estimate``, ``per_inference``,
``tiers``, ``chart``) and the cost of the resources a program declares (``declared``)."""
