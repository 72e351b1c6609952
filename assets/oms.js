/* Grid value formatters (AG Grid "function" strings) and clientside callbacks. */
(function () {
  "use strict";
  function finite(v) { return v !== null && v !== undefined && v !== "" && isFinite(Number(v)); }
  function fixed(v, d) {
    return Number(v).toLocaleString("en-US", {minimumFractionDigits: d, maximumFractionDigits: d});
  }
  var fmt = {
    num: function (v) { return finite(v) ? Number(v).toLocaleString("en-US", {maximumFractionDigits: 4}) : "—"; },
    fmtQty: function (v) { return finite(v) ? Number(v).toLocaleString("en-US", {maximumFractionDigits: 6}) : "—"; },
    fmtPrice: function (v) {
      if (!finite(v)) { return "—"; }
      var a = Math.abs(Number(v));
      return fixed(v, a >= 1000 ? 2 : a >= 10 ? 3 : a >= 1 ? 4 : 6);
    },
    fmtUsd: function (v) { return finite(v) ? fixed(v, 2) : "—"; },
    fmtBps: function (v) {
      if (!finite(v)) { return "—"; }
      if (Math.abs(Number(v)) < 0.05) { return "0.0"; }
      return (Number(v) > 0 ? "+" : "") + fixed(v, 1);
    },
    fmtPct: function (v) { return finite(v) ? (Number(v) * 100).toFixed(1) + "%" : "—"; },
    /* ids share their process token and differ at the end: show the end (tooltip: all of it) */
    fmtId: function (v) {
      if (v === null || v === undefined) { return ""; }
      var s = String(v);
      return s.length > 14 ? "…" + s.slice(-13) : s;
    }
  };
  var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  Object.keys(fmt).forEach(function (k) { dagfuncs[k] = fmt[k]; });
  /* A blotter row's id as the string AG Grid requires (warning #25 otherwise); the grid's
     expression evaluator knows only these functions, not the browser's String. */
  dagfuncs.rowId = function (params, field) {
    var data = params && params.data;
    return data && data[field] !== null && data[field] !== undefined ? String(data[field]) : "";
  };
  /* The dark desk theme for AG Grid's Theming API (called with themeQuartz). */
  dagfuncs.omsTheme = function (base) {
    return base.withParams({
      browserColorScheme: "dark", backgroundColor: "#121820", foregroundColor: "#d7dde5",
      headerBackgroundColor: "#1b222c", headerTextColor: "#9aa7b8", borderColor: "#2a3340",
      chromeBackgroundColor: "#151b23", oddRowBackgroundColor: "#141b24",
      rowHoverColor: "#1e2733", selectedRowBackgroundColor: "#1f3a5c", accentColor: "#4da3ff",
      fontSize: 12, headerFontSize: 11, spacing: 4, wrapperBorderRadius: 4,
      fontFamily: "inherit", cellHorizontalPadding: 8
    });
  };

  window.dash_clientside = window.dash_clientside || {};
  /* the chart holds the stored history (oms/persistence/history.py MAX_CHART_POINTS) plus the
     live points since: keep both, bounded */
  var CHART_POINTS = 6000;
  window.dash_clientside.oms = {
    /* Extend the overview's P&L chart by one point (no full redraw). */
    extendPnl: function (point) {
      if (!point) { return window.dash_clientside.no_update; }
      return [{x: [[point.t]], y: [[point.pnl]]}, [0], CHART_POINTS];
    },
    /* Re-request the visible blocks of the server-side blotters (keeps rows on screen). */
    refreshGrids: function () {
      var gridIds = Array.prototype.slice.call(arguments, -2);  /* the two State ids, last */
      gridIds.forEach(function (gridId) {
        try {
          var api = window.dash_ag_grid && window.dash_ag_grid.getApi(gridId);
          if (api && !api.isDestroyed()) { api.refreshInfiniteCache(); }
        } catch (e) { /* grid not mounted yet */ }
      });
      return window.dash_clientside.no_update;
    }
  };
})();
