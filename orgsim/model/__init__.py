"""The organisation model: graph, invariants, structure metrics."""

from orgsim.model.build import build_org
from orgsim.model.metrics import StructureMetrics, structure_metrics
from orgsim.model.org import Flow, Ledger, Org, Step
from orgsim.model.validate import check_org, org_problems

__all__ = [
    "Org", "Flow", "Step", "Ledger", "build_org", "check_org", "org_problems",
    "StructureMetrics", "structure_metrics",
]
