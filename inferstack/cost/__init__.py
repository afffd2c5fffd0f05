"""Capacity and cost planning: the public price catalog, the capacity planner and the monthly estimate."""
