import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { formatFloat } from "@web/views/fields/formatters";
import { useInputField } from "@web/views/fields/input_field_hook";
import { useNumpadDecimal } from "@web/views/fields/numpad_decimal_hook";
import { parseFloat } from "@web/views/fields/parsers";
import { PercentageField, percentageField } from "@web/views/fields/percentage/percentage_field";

/**
 * Odoo's percentage widget for a value stored in percent (2.5 means 2.5 %), as the
 * tolerances are: Odoo's own widget expects a ratio (0.025) and would show 250 %.
 */
export class HcPercentField extends Component {
    static template = "web.PercentageField";
    static props = PercentageField.props;

    setup() {
        useInputField({
            getValue: () => this.format(false),
            refName: "numpadDecimal",
            parse: (value) => parseFloat(value.trim().replace(/%$/, "")),
        });
        useNumpadDecimal();
    }

    format(withSymbol) {
        const field = this.props.record.fields[this.props.name];
        const formatted = formatFloat(this.props.record.data[this.props.name] || 0, {
            digits: this.props.digits || field.digits,
            trailingZeros: false,
        });
        return withSymbol ? `${formatted} %` : formatted;
    }

    get formattedValue() {
        return this.format(true);
    }
}

registry.category("fields").add("hc_percent", {
    ...percentageField,
    component: HcPercentField,
    displayName: _t("Percentage (stored in percent)"),
});
