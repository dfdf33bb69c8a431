import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// An integration admin opens the dashboard, sees the dead letter count, the queue depth
// and latency charts, and opens the dead letters.
registry.category("web_tour.tours").add("hc_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("healthcare_p2p_integration.menu_hc_root", "Open the hub"),
        {
            // the dashboard (the app's landing action) has rendered: its rendering would
            // close a menu opened earlier
            trigger: ".o_hc_dashboard h4:contains('By connector, lane and document type')",
        },
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
            // the two trend charts, drawn by Chart.js (it sizes the canvas), axes in the
            // unit of their values
            trigger: ".o_hc_dashboard .o_hc_chart[data-metric='queue_depth'] canvas[height]",
        },
        {
            trigger: ".o_hc_dashboard .o_hc_chart[data-metric='queue_depth'] .o_hc_chart_unit:contains('messages')",
        },
        {
            trigger: ".o_hc_dashboard .o_hc_chart[data-metric='processing_p95'] canvas[height]",
        },
        {
            trigger: ".o_hc_dashboard .o_hc_chart[data-metric='processing_p95'] .o_hc_chart_unit:contains('seconds')",
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
