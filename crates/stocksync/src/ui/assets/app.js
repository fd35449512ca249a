// stocksync's only script. Every page works without it; it adds small conveniences.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Filters apply as soon as a choice is made.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });
  // Buttons that undo work ask first.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) {
      if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  });
  // The import-orders warning follows the checkbox before saving.
  var importOrders = document.getElementById("import_orders");
  var note = document.getElementById("import-off-note");
  if (importOrders && note) {
    importOrders.addEventListener("change", function () { note.hidden = importOrders.checked; });
  }
});
