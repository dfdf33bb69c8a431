import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// The demo's AP clerk (only the AP Clerk role) requests a credit note for a price
// variance, looks at a possible duplicate side by side and confirms it, then asks
// receiving about a missing receipt: each exception offers its own decisions, and the
// reason given shows on the exception.
registry.category("web_tour.tours").add("hc_clerk_decisions_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("healthcare_p2p_integration.menu_hc_root", "Open the hub"),
        {
            // the dashboard (the app's landing action) has rendered: its rendering would
            // close a menu opened earlier
            trigger: ".o_hc_dashboard h4:contains('By connector, lane and document type')",
        },
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
        {
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Exceptions')",
            run: "click",
        },
        {
            trigger: ".o_data_row td[name='exception_type']:contains('Missing receipt')",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_resolve']:contains('Ask receiving')",
            run: "click",
        },
        {
            // a missing receipt offers receipt decisions, neither accepting nor a credit note
            trigger: ".modal div[name='action']:not(:has(input[data-value='accept'])):not(:has(input[data-value='credit_note'])) input[data-value='ask_receiving']:checked",
        },
        {
            trigger: ".modal .alert-info:contains('The receiving team gets an activity')",
        },
        {
            trigger: ".modal div[name='reason'] textarea",
            run: "edit Dock says it came Tuesday",
        },
        {
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Waiting')",
        },
        {
            trigger: ".o_form_view .alert:contains('Reason given'):contains('Dock says it came Tuesday')",
        },
    ],
});
