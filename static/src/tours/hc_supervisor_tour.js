import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// An AP supervisor (AP manager) opens the Blocked bills worklist: one line per bill with
// its reasons and owners, then a bill and what still blocks it, side by side.
registry.category("web_tour.tours").add("hc_supervisor_blocked_bills_tour", {
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
            trigger: ".o-dropdown-item:contains('Blocked bills')",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row td[name='hc_block_reasons']:contains('Price variance')",
        },
        {
            trigger: ".o_list_view .o_data_row td[name='hc_block_owner_ids'] .o_m2m_avatar, .o_list_view .o_data_row td[name='hc_block_owner_ids'] img",
        },
        {
            trigger: ".o_list_view .o_data_row td[name='partner_id']:contains('Medline')",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_notebook a:contains('Procure-to-Pay')",
            run: "click",
        },
        {
            trigger: ".o_form_view div[name='hc_open_exception_ids'] td[name='exception_type']:contains('Price variance')",
        },
        {
            // the failing figure (the invoiced price) is highlighted
            trigger: ".o_form_view div[name='hc_match_line_ids'] td[name='bill_price'] .o_field_widget.text-danger",
        },
    ],
});
