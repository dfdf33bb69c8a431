import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// An integration admin opens the dashboard, sees the dead letter count and opens it.
registry.category("web_tour.tours").add("hc_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("healthcare_p2p_integration.menu_hc_root", "Open the hub"),
        {
            trigger: ".o_menu_sections button:contains('Dashboard'), .o_menu_sections a:contains('Dashboard')",
            run: "click",
        },
        {
            trigger: ".o_hc_dashboard .o_hc_card[data-code='dead'] .o_hc_value:contains('1')",
        },
        {
            trigger: ".o_hc_dashboard .o_hc_card[data-code='unmatched_bills']",
        },
        {
            trigger: ".o_hc_dashboard .o_hc_routes td:contains('srcplat')",
        },
        {
            trigger: ".o_hc_dashboard .o_hc_card[data-code='dead']",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row td[name='state']:contains('Dead')",
        },
    ],
});
