from . import api
from . import export
