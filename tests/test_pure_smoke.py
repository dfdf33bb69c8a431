import sys

def test_no_orm():
    assert not any(m.startswith("odoo.orm") for m in sys.modules)
