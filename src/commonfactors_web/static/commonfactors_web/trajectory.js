/* The interactive trajectory charts of the client page (docs/charts.md).
 *
 * Each <figure class="trajectory"> holds the chart's Vega-Lite spec (json_script), a static
 * SVG of the same chart (shown without JavaScript and in print) and a table of its values.
 * This script draws the spec with vega-embed, without eval (Vega's expression interpreter,
 * `ast: true`) and without inline styles, so the page's Content-Security-Policy holds.
 *
 * Pointing at a point shows its values in a tooltip. From the keyboard, the chart is one tab
 * stop: on focus the latest session is shown, the arrow keys (and Home/End) move between
 * sessions; the chosen session's point is ringed and labelled on the chart (the spec's
 * `focus` parameter) and its values are written below the chart, in a live region.
 */
(function () {
  "use strict";

  var KEYS = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1 };

  function draw(figure) {
    var source = document.getElementById(figure.getAttribute("data-spec"));
    var live = figure.querySelector(".chart-live");
    var canvas = figure.querySelector(".chart-canvas");
    var readout = figure.querySelector(".chart-readout");
    var rows = Array.prototype.slice.call(figure.querySelectorAll("tr[data-session]"));
    if (!source || !live || !canvas || typeof window.vegaEmbed !== "function") {
      return; // the static image stays
    }
    var spec = JSON.parse(source.textContent);
    // as wide as the page allows; the server's static image keeps its fixed size
    spec.width = "container";
    spec.autosize = { type: "fit-x", contains: "padding" };
    live.hidden = false;
    var options = {
      renderer: "svg",
      actions: false, // no export or "open in editor": client data stays on this page
      ast: true, // expressions are interpreted, never compiled with eval
      defaultStyle: false, // no inline <style>; see charts.css
      tooltip: { theme: "light", disableDefaultStyle: true },
    };
    window
      .vegaEmbed(canvas, spec, options)
      .then(function (result) {
        figure.classList.add("is-live");
        keyboard(result.view, canvas, readout, rows);
      })
      .catch(function () {
        live.hidden = true; // keep the static image
      });
  }

  function keyboard(view, canvas, readout, rows) {
    var current = -1;

    function show(index) {
      if (!rows.length) {
        return;
      }
      current = Math.max(0, Math.min(rows.length - 1, index));
      var row = rows[current];
      rows.forEach(function (r) {
        r.classList.toggle("is-focused", r === row);
      });
      view.signal("focus", Number(row.getAttribute("data-session"))).runAsync();
      readout.textContent = row.getAttribute("data-label");
    }

    canvas.addEventListener("focus", function () {
      show(current < 0 ? rows.length - 1 : current);
    });
    canvas.addEventListener("blur", function () {
      view.signal("focus", null).runAsync();
      rows.forEach(function (r) {
        r.classList.remove("is-focused");
      });
    });
    canvas.addEventListener("keydown", function (event) {
      var step = KEYS[event.key];
      if (step !== undefined) {
        show(current + step);
      } else if (event.key === "Home") {
        show(0);
      } else if (event.key === "End") {
        show(rows.length - 1);
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.trajectory[data-spec]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
