"""A seeded synthetic omnichannel retailer with its ground truth.

``generate(out_dir, customers, seed, as_of)`` writes the native files of every source, their
mappings and the truth; ``BEHAVIOURS`` holds the planted behaviours and their parameters.
"""

from parcours.demo.behaviours import BEHAVIOURS
from parcours.demo.generator import DemoManifest, generate
from parcours.demo.sources import DemoFile

__all__ = ["BEHAVIOURS", "DemoFile", "DemoManifest", "generate"]
