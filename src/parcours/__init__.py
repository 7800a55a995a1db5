"""parcours: customer data and customer-journey analytics for omnichannel retail."""

from parcours.config import Config, load_config
from parcours.errors import ParcoursError
from parcours.workspace import Workspace

__version__ = "0.1.0"

__all__ = ["Config", "ParcoursError", "Workspace", "__version__", "load_config"]
