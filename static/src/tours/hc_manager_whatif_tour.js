import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// An AP manager opens the company's tolerance rule, asks what a looser unit price
// tolerance would do, sees the blocked bill it would release, and applies it.
registry.category("web_tour.tours").add("hc_manager_whatif_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("healthcare_p2p_integration.menu_hc_root", "Open the hub"),
        {
            // the dashboard (the app's landing action) has rendered: its rendering would
            // close a menu opened earlier
            trigger: ".o_hc_dashboard h4:contains('By connector, lane and document type')",
        },
        {
            trigger: ".o_menu_sections button:contains('Configuration')",
            run: "click",
        },
        {
            trigger: ".o-dropdown-item:contains('Tolerance rules')",
            run: "click",
        },
        {
            // percentages read as percentages
            trigger: ".o_data_row:contains('Default') td[name='price_pct']:contains('2 %')",
        },
        {
            trigger: ".o_data_row td[name='name']:contains('Default')",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_whatif']",
            run: "click",
        },
        {
            // it starts from the rule's values
            trigger: ".modal .modal-title:contains('What if the tolerance changed?')",
        },
        {
            trigger: ".modal div[name='price_pct'] input",
            run: "edit 5",
        },
        {
            trigger: ".modal div[name='total_pct'] input",
            run: "edit 5",
        },
        {
            trigger: ".modal button[name='action_simulate']",
            run: "click",
        },
        {
            trigger: ".modal div[name='line_ids'] .o_data_row td[name='change']:contains('Would be released')",
        },
        {
            trigger: ".modal div[name='line_ids'] .o_data_row td[name='move_id']:contains('INV-')",
        },
        {
            trigger: ".modal button[name='action_apply']",
            run: "click",
        },
        {
            trigger: ".modal:contains('Save these limits') .modal-footer .btn-primary",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('Tolerance applied')",
        },
    ],
});
