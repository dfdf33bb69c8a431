import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// An integration admin opens the inbox, finds the dead letter and opens it.
registry.category("web_tour.tours").add("hc_inbox_dead_letter_tour", {
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
            trigger: ".o-dropdown-item:contains('Inbox')",
            run: "click",
        },
        {
            // the inbox opens on what is in progress: the dead letter is not there
            trigger: ".o_list_view .o_list_renderer",
        },
        {
            trigger: ".o_searchview_facet:contains('In progress') .o_facet_remove",
            run: "click",
        },
        {
            trigger: ".o_control_panel:not(:has(.o_searchview_facet))",
        },
        {
            trigger: ".o_data_row td[name='state']:contains('Dead')",
            run: "click",
        },
        {
            trigger: ".o_form_view .alert-danger",
        },
        {
            trigger: ".o_form_view button[name='action_replay']",
        },
    ],
});
