import { Component, onWillStart, onWillUnmount, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { cookie } from "@web/core/browser/cookie";
import { getColor } from "@web/core/colors/colors";
import { deserializeDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/**
 * A small line chart of one metric over the dashboard's window (hc.metrics._charts): one
 * line per company, the y axis titled with the unit the values are in.  Chart.js is the
 * web client's own, loaded lazily as the graph view does.
 */
export class HcLineChart extends Component {
    static template = "healthcare_p2p_integration.HcLineChart";
    static props = { chart: Object };

    setup() {
        this.canvasRef = useRef("canvas");
        this.chart = null;
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => this.renderChart(),
            () => [this.props.chart]
        );
        onWillUnmount(() => this.chart?.destroy());
    }

    get isEmpty() {
        return !this.props.chart.labels.length;
    }

    renderChart() {
        this.chart?.destroy();
        this.chart = null;
        if (this.isEmpty || !this.canvasRef.el) {
            return;
        }
        const { labels, datasets, unit } = this.props.chart;
        const scheme = cookie.get("color_scheme");
        this.chart = new Chart(this.canvasRef.el, {
            type: "line",
            data: {
                labels: labels.map((label) =>
                    deserializeDateTime(label).toLocaleString({
                        month: "short",
                        day: "numeric",
                        hour: "2-digit",
                        minute: "2-digit",
                    })
                ),
                datasets: datasets.map((dataset, index) => ({
                    label: dataset.company,
                    data: dataset.values,
                    borderColor: getColor(index, scheme, "odoo"),
                    backgroundColor: getColor(index, scheme, "odoo"),
                    borderWidth: 2,
                    pointRadius: labels.length > 48 ? 0 : 2,
                    spanGaps: true,
                    tension: 0,
                })),
            },
            options: {
                animation: false,
                maintainAspectRatio: false,
                plugins: {
                    legend: { display: datasets.length > 1, position: "bottom" },
                    tooltip: {
                        intersect: false,
                        mode: "index",
                        callbacks: {
                            label: (item) => `${item.dataset.label}: ${item.formattedValue} ${unit}`,
                        },
                    },
                },
                scales: {
                    x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } },
                    y: { beginAtZero: true, title: { display: true, text: unit } },
                },
            },
        });
    }
}

/**
 * Integration dashboard: technical and business figures of the procure-to-pay hub as KPI
 * cards, filterable by company (facility) and time window; every card opens the records
 * behind its figure.  All figures come from hc.metrics.get_dashboard (SQL aggregates).
 */
export class HcDashboard extends Component {
    static template = "healthcare_p2p_integration.HcDashboard";
    static components = { HcLineChart };
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
