from . import hc_replay_wizard_mixin
from . import hc_inbox_replay_wizard
from . import hc_connector_key_wizard
from . import hc_exception_resolve_wizard
from . import hc_tolerance_whatif_wizard
from . import hc_outbox_replay_wizard
from . import hc_bank_change_decision_wizard
from . import hc_connector_secret_wizard
