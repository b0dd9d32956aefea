"""A deterministic simulator of customers' Segment-spec events, with the ground truth they imply.

Pure: no Kafka, Redis or files; ``streamapp simulate`` publishes what it yields.

>>> truth = GroundTruth()
>>> events = list(generate(12, seed=3, days=30, truth=truth))
>>> truth.totals()["events_total"] == len(events)
True
"""

from streamapp.simulator.generator import DEFAULT_DAYS, DEFAULT_START, customer_id, generate
from streamapp.simulator.ground_truth import CustomerTruth, GroundTruth
from streamapp.simulator.personas import PERSONAS, Persona, assign_personas, persona_counts

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_START",
    "PERSONAS",
    "CustomerTruth",
    "GroundTruth",
    "Persona",
    "assign_personas",
    "customer_id",
    "generate",
    "persona_counts",
]
