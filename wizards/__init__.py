from . import hc_inbox_replay_wizard
from . import hc_connector_key_wizard
