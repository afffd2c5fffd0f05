"""Tier mixes: how a pool's average nodes split over purchase options, and what that costs per hour.

The split is the capacity plan's (``inferstack.sizing.PoolPlan.nodes_by_purchase``: a ladder's tiers each hold
their ``minNodes``, then take the rest in ladder order; a ``capacity`` mode's tiers fill in order, a spot-first tier
getting spot for ``spotShare`` of its node-hours). Reserved tiers are billed for every reserved node (their
``maxNodes``) whether used or not (``inferstack.catalog.prices.RESERVED_BASIS``).

Three mixes are compared per model:

- ``all-on-demand``: every node on demand;
- ``ladder``: the pool's own tiers (a ladder, or the tiers of its ``capacity`` mode);
- ``spot-heavy``: the nodes the tiers always keep (their ``minNodes``) on demand, everything else spot first with an
  on-demand fallback for ``1 - spotShare`` of the node-hours.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from inferstack import sizing
from inferstack.catalog.prices import TierPrices

RESERVED, ON_DEMAND, FLEX_START, SPOT = sizing.RESERVED, sizing.ON_DEMAND, sizing.FLEX_START, sizing.SPOT
#: Purchase options, in the order the cost tables list them.
PURCHASES = sizing.PURCHASES
#: The mixes compared per model.
ALL_ON_DEMAND, LADDER, SPOT_HEAVY = "all-on-demand", "ladder", "spot-heavy"
MIXES = (ALL_ON_DEMAND, LADDER, SPOT_HEAVY)


@dataclass(frozen=True)
class TierMix:
    """Average nodes per purchase option: ``running`` (what runs) and ``billed`` (reserved tiers bill every
    reserved node)."""

    running: dict[str, float]
    billed: dict[str, float]

    @property
    def nodes(self) -> float:
        return sum(self.running.values())

    def shares(self) -> dict[str, float]:
        """Share of the running node-hours bought each way (sums to 1; all on demand for an empty pool)."""
        total = self.nodes
        if total <= 0:
            return {p: float(p == ON_DEMAND) for p in PURCHASES}
        return {p: self.running[p] / total for p in PURCHASES}

    def hourly_usd(self, prices: TierPrices) -> float:
        """USD per hour of the billed nodes at ``prices``."""
        return sum(n * prices.hourly(p) for p, n in self.billed.items() if n)


def floor_nodes(tiers: tuple[sizing.CapacityTier, ...]) -> int:
    """Nodes the tiers always keep: the sum of their ``minNodes``."""
    return sum(t.min_nodes for t in tiers)


def mix_tiers(mix: str, tiers: tuple[sizing.CapacityTier, ...]) -> tuple[sizing.CapacityTier, ...]:
    """The tiers of one of the compared mixes (see the module docstring) built from a pool's ``tiers``."""
    if mix == LADDER:
        return tiers
    if mix == ALL_ON_DEMAND:
        return (sizing.CapacityTier(ALL_ON_DEMAND, (ON_DEMAND,), 0, 1),)  # the last tier takes every node
    if mix == SPOT_HEAVY:
        floor = floor_nodes(tiers)
        rest = (sizing.CapacityTier(SPOT_HEAVY, (SPOT, ON_DEMAND), 0, 1),)
        return ((sizing.CapacityTier("floor", (ON_DEMAND,), floor, floor),) + rest) if floor else rest
    raise ValueError(f"unknown tier mix {mix!r}; allowed: {', '.join(MIXES)}")


def tier_mix(plan: sizing.PoolPlan, avg_nodes: float, spot_share: float, mix: str = LADDER) -> TierMix:
    """The ``mix`` of ``avg_nodes`` nodes of ``plan``'s pool (reserved tiers billed in full)."""
    tiers = mix_tiers(mix, plan.tiers)
    running = (plan if mix == LADDER else dataclasses.replace(plan, tiers=tiers)).nodes_by_purchase(avg_nodes, spot_share)
    billed = dict(running)
    reserved = sum(t.max_nodes for t in tiers if t.purchase[:1] == (RESERVED,))
    billed[RESERVED] = max(running[RESERVED], float(reserved))
    return TierMix(running, billed)
