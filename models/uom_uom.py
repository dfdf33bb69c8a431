from odoo import fields
from odoo import models


class UomUom(models.Model):
    _inherit = "uom.uom"

    hc_code = fields.Char(
        string="EDI unit code",
        index=True,
        help="Canonical code (UN/ECE Rec 20) documents designate this unit by, whatever the "
        "item: EA, KGM, LTR... Other spellings (C62, H87, PCE, KG...) are folded to it.",
    )
    hc_pack_code = fields.Char(
        string="EDI pack code",
        index=True,
        help="Packaging level this unit is for the products listing it among their "
        "packagings (BX, CS, PK...): a case of gloves and a case of syringes hold different "
        "quantities, so a pack code only finds its unit through the product.",
    )
