// Draw the decision makers' org chart with ECharts (tree, coloured by attitude).
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("org-chart");
  var source = document.getElementById("org-chart-data");
  if (!el || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  if (!data.children || data.children.length === 0) { el.style.display = "none"; return; }
  var chart = echarts.init(el);
  chart.setOption({
    tooltip: { formatter: function (p) { var d = p.data; return d.attitude ? (d.name.replace("\n", " · ") + "<br>" + (d.value || "") + " · " + d.attitude + " · " + d.influence + "/5") : d.name; } },
    series: [{ type: "tree", data: [data], orient: "TB", top: 30, bottom: 60, left: 20, right: 20,
      symbolSize: 12, expandAndCollapse: false, initialTreeDepth: -1,
      label: { position: "bottom", verticalAlign: "top", fontSize: 12 },
      leaves: { label: { position: "bottom", verticalAlign: "top" } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
