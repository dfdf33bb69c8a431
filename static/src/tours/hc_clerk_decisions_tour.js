import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// An AP clerk (their own user) requests a credit note for a price variance, then looks
// at a possible duplicate side by side and confirms it: each exception offers its own
// decisions, and the reason given shows on the exception.
registry.category("web_tour.tours").add("hc_clerk_decisions_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("healthcare_p2p_integration.menu_hc_root", "Open the hub"),
        {
            trigger: ".o_menu_sections button:contains('Operations')",
            run: "click",
        },
        {
            trigger: ".o-dropdown-item:contains('Exceptions')",
            run: "click",
        },
        {
            trigger: ".o_data_row td[name='exception_type']:contains('Price variance')",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_resolve']:contains('Request credit note')",
            run: "click",
        },
        {
            // a variance offers no duplicate or item decision
            trigger: ".modal div[name='action']:not(:has(input[data-value='confirm_duplicate'])) input[data-value='credit_note']:checked",
        },
        {
            trigger: ".modal div[name='reason'] textarea",
            run: "edit Price above the agreed 12.50",
        },
        {
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Waiting')",
        },
        {
            trigger: ".o_form_view .alert:contains('Reason given'):contains('Price above the agreed 12.50')",
        },
        {
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Exceptions')",
            run: "click",
        },
        {
            trigger: ".o_data_row td[name='exception_type']:contains('Duplicate invoice')",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_notebook a:contains('Side by side')",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_hc_duplicate_comparison:contains('INV-500'):contains('INV-501')",
        },
        {
            trigger: ".o_form_view button[name='action_resolve']:contains('Resolve')",
            run: "click",
        },
        {
            trigger: ".modal .o_hc_duplicate_comparison:contains('INV-500')",
        },
        {
            trigger: ".modal div[name='action']:not(:has(input[data-value='accept'])) input[data-value='confirm_duplicate']",
            run: "click",
        },
        {
            trigger: ".modal div[name='reason'] textarea",
            run: "edit Same delivery billed twice",
        },
        {
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Resolved')",
        },
    ],
});
