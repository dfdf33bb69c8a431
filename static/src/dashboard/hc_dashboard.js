import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/**
 * Integration dashboard: technical and business figures of the procure-to-pay hub as KPI
 * cards, filterable by company (facility) and time window; every card opens the records
 * behind its figure.  All figures come from hc.metrics.get_dashboard (SQL aggregates).
 */
export class HcDashboard extends Component {
    static template = "healthcare_p2p_integration.HcDashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null, companyIds: null, windowHours: 24, loading: false });
        onWillStart(() => this.load());
    }

    async load() {
        this.state.loading = true;
        try {
            const data = await this.orm.call("hc.metrics", "get_dashboard", [], {
                company_ids: this.state.companyIds,
                window_hours: this.state.windowHours,
            });
            this.state.data = data;
            this.state.companyIds = data.company_ids;
        } finally {
            this.state.loading = false;
        }
    }

    get technicalCards() {
        return this.state.data.cards.filter((card) => card.group === "technical");
    }

    get businessCards() {
        return this.state.data.cards.filter((card) => card.group === "business");
    }

    isSelected(companyId) {
        return this.state.companyIds.includes(companyId);
    }

    async toggleCompany(companyId) {
        const ids = this.isSelected(companyId)
            ? this.state.companyIds.filter((id) => id !== companyId)
            : [...this.state.companyIds, companyId];
        if (!ids.length) {
            return;
        }
        this.state.companyIds = ids;
        await this.load();
    }

    async onWindowChange(ev) {
        this.state.windowHours = parseInt(ev.target.value, 10);
        await this.load();
    }

    formatSeconds(value) {
        if (value >= 3600) {
            return `${(value / 3600).toFixed(1)} h`;
        }
        if (value >= 60) {
            return `${(value / 60).toFixed(1)} min`;
        }
        return `${value.toFixed(1)} s`;
    }

    openTrend(trend) {
        return this.action.doAction(trend.xmlid);
    }

    format(card) {
        const value = card.value || 0;
        switch (card.unit) {
            case "pct":
                return `${value.toFixed(1)} %`;
            case "ms":
                return `${Math.round(value)} ms`;
            case "seconds":
                return this.formatSeconds(value);
            case "amount":
                return `${this.state.data.currency} ${value.toLocaleString(undefined, {
                    maximumFractionDigits: 2,
                })}`;
            default:
                return `${value}`;
        }
    }

    openList(name, resModel, domain) {
        return this.action.doAction({
            type: "ir.actions.act_window",
            name,
            res_model: resModel,
            domain,
            views: [
                [false, "list"],
                [false, "form"],
            ],
            target: "current",
        });
    }

    openCard(card) {
        return this.openList(card.label, card.res_model, card.domain);
    }

    openRoute(row) {
        return this.openList(
            `${row.connector} / ${row.lane} / ${row.doc_type || ""}`,
            "hc.inbox.message",
            [
                ["company_id", "in", this.state.companyIds],
                ["connector_id.code", "=", row.connector],
                ["lane_id.code", "=", row.lane],
                ["doc_type", "=", row.doc_type],
            ]
        );
    }

    openExceptions(name, extra) {
        return this.openList(name, "hc.exception", [
            ["company_id", "in", this.state.companyIds],
            ["state", "not in", ["resolved", "cancelled"]],
            ...extra,
        ]);
    }

    openThresholds() {
        return this.openList("Alert thresholds", "hc.metric.threshold", [
            ["company_id", "in", this.state.companyIds],
        ]);
    }
}

registry.category("actions").add("hc_integration_dashboard", HcDashboard);
