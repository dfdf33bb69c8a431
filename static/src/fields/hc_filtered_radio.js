import { registry } from "@web/core/registry";
import { RadioField, radioField } from "@web/views/fields/radio/radio_field";

// A radio list showing only the choices another field of the record allows (a JSON list
// of selection values), e.g. the decisions that fit the exception being resolved.
export class HcFilteredRadioField extends RadioField {
    static props = {
        ...RadioField.props,
        allowedField: { type: String, optional: true },
    };

    get items() {
        const items = super.items;
        const allowed = this.props.allowedField && this.props.record.data[this.props.allowedField];
        if (!Array.isArray(allowed)) {
            return items;
        }
        return items.filter((item) => allowed.includes(item[0]));
    }
}

export const hcFilteredRadioField = {
    ...radioField,
    component: HcFilteredRadioField,
    extractProps(fieldInfo, dynamicInfo) {
        return {
            ...radioField.extractProps(fieldInfo, dynamicInfo),
            allowedField: fieldInfo.options.allowed_field,
        };
    },
};

registry.category("fields").add("hc_filtered_radio", hcFilteredRadioField);
