import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// The demo's AP clerk (only the AP Clerk role) opens the exception queue, opens a price variance, accepts it with a
// reason, and sees the bill released for payment.
registry.category("web_tour.tours").add("hc_clerk_accept_variance_tour", {
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
            trigger: ".o_form_view .alert-info:contains('Next step')",
        },
        {
            trigger: ".o_form_view button[name='action_resolve']",
            run: "click",
        },
        {
            trigger: ".modal div[name='action'] input[data-value='accept']",
            run: "click",
        },
        {
            trigger: ".modal div[name='reason'] textarea",
            run: "edit Surcharge agreed with the vendor",
        },
        {
            trigger: ".modal button[name='action_confirm']",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('Decision recorded')",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Resolved')",
        },
        {
            // the next step is done: no hint left
            trigger: ".o_form_view:not(:has(.alert-info:contains('Next step')))",
        },
        {
            trigger: ".o_form_view div[name='move_id'] a, .o_form_view div[name='move_id'] .o_form_uri",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='hc_match_state']:contains('Released with accepted variances')",
        },
    ],
});
